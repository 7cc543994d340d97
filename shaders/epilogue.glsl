#ifndef VKATTN_EPILOGUE_GLSL
#define VKATTN_EPILOGUE_GLSL
// What a kernel applies to each value as it stores it, in place of the nodes the plan folded into
// it (ops/op.h's Epilogue): first a residual of the output's shape is added, then an activation.
// The includer defines, before including this after its push constants:
//   EPILOGUE_ID        the first of its four specialization constants (function, A, B, residual)
//   RESIDUAL_BINDING   the residual's binding, as float texels (the host binds another tensor
//                      there when there is no residual: it is never read then)
//   RESIDUAL_BASE      its push-constant base (p.baseN), and Y_BASE the output's
#include "activations.glsl"

layout(constant_id = EPILOGUE_ID) const uint ACTIVATION = 0;
layout(constant_id = EPILOGUE_ID + 1) const float ACTIVATION_A = 0.0;
layout(constant_id = EPILOGUE_ID + 2) const float ACTIVATION_B = 0.0;
layout(constant_id = EPILOGUE_ID + 3) const bool RESIDUAL = false;
layout(binding = RESIDUAL_BINDING) uniform samplerBuffer residual;

// The value stored at y[at] (at counts from the start of y's binding, so from Y_BASE on): the
// residual's element at the same place in its own binding.
float epilogue(float v, uint at) {
  if (RESIDUAL) v += texelFetch(residual, int(at - Y_BASE + RESIDUAL_BASE)).r;
  return activate(v, ACTIVATION, ACTIVATION_A, ACTIVATION_B);
}

// The same for y[at .. at + 3].
vec4 epilogue(vec4 v, uint at) {
  return vec4(epilogue(v.x, at), epilogue(v.y, at + 1), epilogue(v.z, at + 2), epilogue(v.w, at + 3));
}

#endif
