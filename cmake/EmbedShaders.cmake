# vkattn_embed_shaders(<target> <dir> <shader>...)
# Compiles each <dir>/<name>.comp to SPIR-V with glslangValidator and writes it as a
# uint32_t array `<name>_spv` into <build>/shaders/<name>.spv.h, which the target includes.
# A name with its own extension (scene.vert, scene.frag) is taken as it is and becomes
# `scene_vert_spv` in scene.vert.spv.h.
# `#include`s resolve next to the shader, then in shaders/.
# Nothing is read from disk at run time and no .spv lands in the source tree.
function(vkattn_embed_shaders target dir)
  set(out_dir "${CMAKE_BINARY_DIR}/generated/shaders")
  file(MAKE_DIRECTORY "${out_dir}")
  set(headers)
  foreach(name IN LISTS ARGN)
    if(name MATCHES "\\.")
      set(src "${dir}/${name}")
      string(REPLACE "." "_" var "${name}")
    else()
      set(src "${dir}/${name}.comp")
      set(var "${name}")
    endif()
    set(hdr "${out_dir}/${name}.spv.h")
    add_custom_command(
      OUTPUT "${hdr}"
      COMMAND "${GLSLANG_VALIDATOR}" -V --target-env vulkan1.1 --quiet -I${PROJECT_SOURCE_DIR}/shaders
              --vn "${var}_spv" --depfile "${hdr}.d" -o "${hdr}" "${src}"
      DEPENDS "${src}"
      DEPFILE "${hdr}.d"
      COMMENT "Compiling shader ${name}.comp"
      VERBATIM)
    list(APPEND headers "${hdr}")
  endforeach()
  add_custom_target(${target}_shaders DEPENDS ${headers})
  add_dependencies(${target} ${target}_shaders)
  target_include_directories(${target} PRIVATE "${out_dir}")
endfunction()
