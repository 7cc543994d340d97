# Installs this build into a fresh prefix, configures tests/consumer against it with
# find_package(vkattn), builds it and runs it; then runs the installed tool and the installed
# embed and generate samples, which must find the classifier and the generator in the prefix's
# share/vkattn/; checks that the package links statically and shared and names no private
# dependency. Run with
#   cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -P consumer_test.cmake
file(REMOVE_RECURSE "${WORK_DIR}")
function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}")
  endif()
endfunction()
step(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${WORK_DIR}/install" --component Unspecified)
step(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/consumer" -B "${WORK_DIR}/build" -DCMAKE_PREFIX_PATH=${WORK_DIR}/install
     -DCMAKE_BUILD_TYPE=Release)
step(${CMAKE_COMMAND} --build "${WORK_DIR}/build")
step("${WORK_DIR}/build/consumer")
step("${WORK_DIR}/build/consumer_shared")
# The package asks its users for Vulkan alone: the private nlohmann_json must not leak into it.
file(GLOB package_files "${WORK_DIR}/install/lib*/cmake/vkattn/*.cmake" "${WORK_DIR}/install/lib/*/cmake/vkattn/*.cmake")
foreach(file IN LISTS package_files)
  file(READ "${file}" text)
  if(text MATCHES "nlohmann")
    message(FATAL_ERROR "${file} names nlohmann_json, a private dependency of vkattn")
  endif()
endforeach()
if(NOT package_files)
  message(FATAL_ERROR "no CMake package files under ${WORK_DIR}/install")
endif()
step("${WORK_DIR}/install/bin/vkattn" --version)
execute_process(COMMAND "${WORK_DIR}/install/bin/embed" "${WORK_DIR}/embed_out" RESULT_VARIABLE rc OUTPUT_VARIABLE out)
if(NOT rc EQUAL 0 OR NOT out MATCHES
   "models: [^\n]*/install/share/vkattn/fashion_sagan.safetensors, [^\n]*/install/share/vkattn/fashion_gan.safetensors")
  message(FATAL_ERROR "the installed embed sample failed (${rc}) or did not use the installed models:\n${out}")
endif()
execute_process(COMMAND "${WORK_DIR}/install/bin/generate" --count 2 --out "${WORK_DIR}/generate_out"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out)
if(NOT rc EQUAL 0 OR NOT out MATCHES "model: [^\n]*/install/share/vkattn/fashion_gan.safetensors")
  message(FATAL_ERROR "the installed generate sample failed (${rc}) or did not use the installed model:\n${out}")
endif()
# The installed Python package, from the prefix alone.
if(EXISTS "${WORK_DIR}/install/lib/python3/dist-packages/vkattn/__init__.py")
  execute_process(COMMAND ${CMAKE_COMMAND} -E env PYTHONPATH=${WORK_DIR}/install/lib/python3/dist-packages
                          /usr/bin/python3 -c "import vkattn; assert vkattn.devices(); print(vkattn.version())"
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "the installed Python package does not import (${rc})")
  endif()
endif()
