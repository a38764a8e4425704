# mqb_add_plugin(<kind> <Name> SOURCES ...): one folder, one shared library, one plugin.
# The library is named by the loader's rule, libmqb_<kind>_<lowercase Name>.so, and
# lands in the build tree's plugin folder (the install layout, so the loader finds it).
function(mqb_add_plugin kind name)
  cmake_parse_arguments(P "" "" "SOURCES;LIBS" ${ARGN})
  string(TOLOWER "${name}" lname)
  set(target mqb_${kind}_${lname})
  add_library(${target} MODULE ${P_SOURCES})
  target_link_libraries(${target} PRIVATE mqb::core ${P_LIBS})
  set_target_properties(${target} PROPERTIES
    PREFIX "lib" OUTPUT_NAME "mqb_${kind}_${lname}"
    LIBRARY_OUTPUT_DIRECTORY ${MQB_BUILD_PLUGIN_DIR}
    INSTALL_RPATH "$ORIGIN/../..")  # <prefix>/lib/mqbench/plugins -> <prefix>/lib
  mqb_warnings(${target})
  mqb_use_pch(${target})
  install(TARGETS ${target} LIBRARY DESTINATION ${MQB_INSTALL_PLUGIN_DIR})
  set_property(GLOBAL APPEND PROPERTY MQB_PLUGIN_TARGETS ${target})
endfunction()

# Programs that load plugins at run time (tests, benchmarks) are rebuilt with them.
function(mqb_depends_on_all_plugins target)
  get_property(plugins GLOBAL PROPERTY MQB_PLUGIN_TARGETS)
  if(plugins)
    add_dependencies(${target} ${plugins})
  endif()
endfunction()
