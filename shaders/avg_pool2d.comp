#version 450
#extension GL_GOOGLE_include_directive : require
// Average pooling over KH x KW windows, padding counted as zeros (see pool.glsl).
#define AVG_POOL
#include "pool.glsl"
