#version 450
#extension GL_EXT_control_flow_attributes : require
// The device's float32 multiply-add ceiling (engine/src/fma_peak.cpp): every lane runs CHAINS
// independent vec4 chains of acc = acc * scale + step in registers, with no memory traffic but
// one float stored per lane at the end, so a kernel's GFLOP/s can be read against it. scale and
// step are push constants, so the compiler cannot fold the multiply away; with scale 1 the host
// knows each lane's exact sum and checks it.
// Binding 0: one float per lane.
layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
const uint CHAINS = 3;  // 12 floats a lane; on lavapipe 4 chains (16 floats) measured 2-4x slower, as if spilled
const uint INNER = 32;  // multiply-adds a chain per loop step, so the loop's own cost is small

layout(std430, binding = 0) writeonly buffer Sums { float sums[]; };
layout(push_constant) uniform Push {
  uint iterations;  // loop steps: each lane does iterations * INNER * CHAINS * 4 multiply-adds
  float scale;
  float step;
} p;

void main() {
  vec4 acc[CHAINS];
  [[unroll]] for (uint i = 0; i < CHAINS; ++i) acc[i] = vec4(4 * i, 4 * i + 1, 4 * i + 2, 4 * i + 3);
  const vec4 scale = vec4(p.scale), step = vec4(p.step);
  for (uint k = 0; k < p.iterations; ++k)
    [[unroll]] for (uint j = 0; j < INNER; ++j)
      [[unroll]] for (uint i = 0; i < CHAINS; ++i) acc[i] = fma(acc[i], scale, step);
  vec4 total = vec4(0.0);
  [[unroll]] for (uint i = 0; i < CHAINS; ++i) total += acc[i];
  sums[gl_GlobalInvocationID.x] = total.x + total.y + total.z + total.w;
}
