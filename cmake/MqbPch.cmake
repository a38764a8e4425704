# One precompiled header shared by every target (REUSE_FROM). The ATen headers it
# holds dominate compile time; a PCH built once cuts each plugin to about a second.
add_library(mqb_pch OBJECT ${CMAKE_SOURCE_DIR}/cmake/pch_anchor.cpp)
target_link_libraries(mqb_pch PUBLIC torch)
target_compile_definitions(mqb_pch PUBLIC BOOST_DLL_USE_STD_FS)
target_precompile_headers(mqb_pch PUBLIC
  <ATen/core/Tensor.h>
  <ATen/ops/empty.h>
  <ATen/ops/zeros.h>
  <ATen/ops/ones.h>
  <c10/util/irange.h>
  <ATen/Parallel.h>
  <map>
  <memory>
  <optional>
  <string>
  <vector>)
mqb_warnings(mqb_pch)

function(mqb_use_pch target)
  target_precompile_headers(${target} REUSE_FROM mqb_pch)
endfunction()
