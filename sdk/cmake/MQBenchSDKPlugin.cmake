# mqb_add_plugin(<kind> <Name> SOURCES ... [LIBS ...]) for out-of-tree plugins: one
# shared library named by the loader's rule (libmqb_<kind>_<lowercase Name>.so) with
# hidden visibility, so only the entry symbol mqb_plugin_v1 is exported.
function(mqb_add_plugin kind name)
  cmake_parse_arguments(P "" "" "SOURCES;LIBS" ${ARGN})
  if(NOT kind MATCHES "^(observer|quantizer|backend)$")
    message(FATAL_ERROR "mqb_add_plugin: kind '${kind}' must be observer, quantizer or backend")
  endif()
  string(TOLOWER "${name}" lname)
  set(target mqb_${kind}_${lname})
  add_library(${target} MODULE ${P_SOURCES})
  target_link_libraries(${target} PRIVATE mqb::sdk ${P_LIBS})
  target_compile_features(${target} PRIVATE cxx_std_17)
  set_target_properties(${target} PROPERTIES PREFIX "lib" OUTPUT_NAME "mqb_${kind}_${lname}"
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
endfunction()
