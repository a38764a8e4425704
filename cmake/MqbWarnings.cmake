# One warning policy for every target of the project.
function(mqb_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-unused-parameter -Winvalid-pch)
endfunction()
