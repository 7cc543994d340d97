// One thread per element of a batch item, for kernels that map each output element to one input
// element. The includer defines `float apply(float v)`. Bindings: 0 in, 1 out.
#include "common.glsl"

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;
layout(std430, binding = 0) readonly buffer InBuffer { float x[]; };
layout(std430, binding = 1) writeonly buffer OutBuffer { float y[]; };

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint count;  // elements per batch item
} p;

float apply(float v);

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch;
  const uint i = (gid % p.groups_per_batch) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (i >= p.count) return;
  const uint e = batch * p.count + i;
  y[p.base1 + e] = apply(x[p.base0 + e]);
}
