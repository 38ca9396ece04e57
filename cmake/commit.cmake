# commit.cmake - writes OUT, a header defining TP_COMMIT: the source tree's
# git commit (short hash, "-dirty" with local changes), else $TP_COMMIT from
# the environment (the image build passes it, having no .git), else
# "unknown". Runs at every build; the file changes only when the commit does.
set(commit "")
find_package(Git QUIET)
if(GIT_FOUND)
  execute_process(COMMAND ${GIT_EXECUTABLE} -C ${SRC} describe --always --dirty --abbrev=12 --exclude=*
                  OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    set(commit "")
  endif()
endif()
if(commit STREQUAL "" AND DEFINED ENV{TP_COMMIT})
  set(commit "$ENV{TP_COMMIT}")
endif()
if(commit STREQUAL "")
  set(commit "unknown")
endif()
string(REGEX REPLACE "[^0-9A-Za-z._-]" "" commit "${commit}")
file(WRITE ${OUT}.tmp "#define TP_COMMIT \"${commit}\"\n")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT}.tmp ${OUT})
file(REMOVE ${OUT}.tmp)
