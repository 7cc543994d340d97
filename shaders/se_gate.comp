#version 450
#extension GL_GOOGLE_include_directive : require
// The squeeze-and-excitation gate of one batch item per workgroup, from its pooled channels p (C):
// hidden = max(W1 p + b1, 0) (S values, kept in shared memory), gate = sigmoid(W2 hidden + b2) (C).
// Bindings: 0 p (B, C), 1 W1 (S, C), 2 b1 (S), 3 W2 (C, S), 4 b2 (C), 5 gate (B, C).
#include "common.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const uint S = 1;  // squeeze channels; at most 4096 (16 KiB of shared memory)
layout(std430, binding = 0) readonly buffer PooledBuffer { value_t pooled[]; };
layout(std430, binding = 1) readonly buffer W1Buffer { value_t w1[]; };
layout(std430, binding = 2) readonly buffer B1Buffer { value_t b1[]; };
layout(std430, binding = 3) readonly buffer W2Buffer { value_t w2[]; };
layout(std430, binding = 4) readonly buffer B2Buffer { value_t b2[]; };
layout(std430, binding = 5) writeonly buffer GateBuffer { value_t gate[]; };

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint C;
} p;

shared float hidden[S];

void main() {
  const uint batch = linear_group_id();
  if (batch >= p.groups) return;  // the whole workgroup leaves together
  const uint t = gl_LocalInvocationID.x, in0 = p.base0 + batch * p.C;
  for (uint s = t; s < S; s += gl_WorkGroupSize.x) {
    float h = b1[p.base2 + s];
    for (uint c = 0; c < p.C; ++c) h = fma(float(w1[p.base1 + s * p.C + c]), float(pooled[in0 + c]), h);
    hidden[s] = relu(h);  // NaN kept (common.glsl)
  }
  barrier();
  for (uint c = t; c < p.C; c += gl_WorkGroupSize.x) {
    float g = b2[p.base4 + c];
    for (uint s = 0; s < S; ++s) g = fma(float(w2[p.base3 + c * S + s]), hidden[s], g);
    gate[p.base5 + batch * p.C + c] = value_t(1.0 / (1.0 + exp(-g)));
  }
}
