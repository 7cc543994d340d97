#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// Average pooling over KH x KW windows (see pool.glsl).
#define AVG_POOL
#include "pool.glsl"
