#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// Direct convolution with groups and dilation (torch.nn.Conv2d), for every case the groups = 1,
// dilation = 1 kernels do not serve: depthwise (groups = C = M), grouped, dilated. Each invocation
// computes a tile of PH rows by P columns of output positions for MG output channels of one
// group. On lavapipe the input fetches cost the most (each is a vector gather), and a depthwise
// convolution has no other output channel to share them with; so the kernel's shape, strides and
// dilations are specialization constants, everything unrolls, and each input row the tile
// reaches is fetched once into a window that every tap reading it indexes by constant: a 3x3
// kernel at stride 1 over a 4 x 8 tile fetches 6 rows of 10 inputs for 32 outputs, where one
// output at a time fetches 9 each. The tile's weights are fetched once per input channel.
// Lanes run along the row first, then rows, then channel blocks: neighbouring lanes read the same
// weight texels and neighbouring input texels. Both are float texels: one vector gather for all
// lanes, where a storage-buffer float is a per-lane loop.
// Bindings: 0 x (B, C, H, W) as float texels; 1 weight (M, C / groups, KH, KW) as float texels;
// 2 bias (M) as float texels; 3 y (B, M, OH, OW); 4 the epilogue's residual (epilogue.glsl,
// specialization constants 9-12).
#include "common.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const uint MG = 1;  // output channels per invocation
layout(constant_id = 1) const uint PH = 1;  // output rows per invocation
layout(constant_id = 2) const uint P = 4;   // output columns per invocation
layout(constant_id = 3) const uint KH = 3;  // the kernel
layout(constant_id = 4) const uint KW = 3;
layout(constant_id = 5) const uint SH = 1;  // stride
layout(constant_id = 6) const uint SW = 1;
layout(constant_id = 7) const uint DH = 1;  // dilation
layout(constant_id = 8) const uint DW = 1;
// The input rows and columns one tile reads.
const uint ROWS = (PH - 1) * SH + (KH - 1) * DH + 1;
const uint SPAN = (P - 1) * SW + (KW - 1) * DW + 1;

layout(binding = 0) uniform samplerBuffer x;
layout(binding = 1) uniform samplerBuffer w;
layout(binding = 2) uniform samplerBuffer bias;
layout(std430, binding = 3) writeonly buffer YBuffer { value_t y[]; };

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint C; uint H; uint W;
  uint pad_h; uint pad_w;
  uint OH; uint OW; uint M;
  uint Cg; uint Mg;     // input and output channels per group
  uint blocks;          // blocks of MG output channels per group
  uint tile_rows;       // tiles down the output
  uint tile_columns;    // tiles across it
  uint lanes;           // invocations per batch item: M / Mg * blocks * tile_rows * tile_columns
} p;

#define EPILOGUE_ID 9
#define RESIDUAL_BINDING 4
#define RESIDUAL_BASE p.base4
#define Y_BASE p.base3
#include "epilogue.glsl"

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;
  const uint batch = gid / p.groups_per_batch;
  const uint lane = (gid % p.groups_per_batch) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (lane >= p.lanes) return;
  const uint column = lane % p.tile_columns, row = lane / p.tile_columns;
  const uint oy0 = (row % p.tile_rows) * PH, ox0 = column * P, block = row / p.tile_rows;
  const uint group = block / p.blocks, first = (block % p.blocks) * MG;  // within the group
  const uint m0 = group * p.Mg + first, count = min(MG, p.Mg - first);

  float acc[MG][PH][P];
  [[unroll]] for (uint m = 0; m < MG; ++m)
    [[unroll]] for (uint r = 0; r < PH; ++r)
      [[unroll]] for (uint q = 0; q < P; ++q) acc[m][r][q] = 0.0;
  // Which of the window's columns are inside the image: a select, so that padding is 0 even
  // next to an inf. Columns and rows of positions past the output's end are read, not stored.
  const int ix0 = int(ox0 * SW) - int(p.pad_w), iy0 = int(oy0 * SH) - int(p.pad_h);
  int at_column[SPAN];
  bool inside_column[SPAN];
  [[unroll]] for (uint j = 0; j < SPAN; ++j) {
    const int ix = ix0 + int(j);
    inside_column[j] = ix >= 0 && ix < int(p.W);
    at_column[j] = inside_column[j] ? ix : 0;
  }
  const int taps = int(KH * KW), plane = int(p.H * p.W);
  const int x0 = int(p.base0 + (batch * p.C + group * p.Cg) * p.H * p.W);
  // Channels of the last block past the group's end read the last one again and are not stored.
  int w0[MG];
  [[unroll]] for (uint m = 0; m < MG; ++m) w0[m] = int(p.base1) + int(m0 + min(m, count - 1)) * int(p.Cg) * taps;
  for (int c = 0; c < int(p.Cg); ++c) {
    float wt[MG][KH * KW];
    [[unroll]] for (uint m = 0; m < MG; ++m)
      [[unroll]] for (uint t = 0; t < KH * KW; ++t) wt[m][t] = texelFetch(w, w0[m] + c * taps + int(t)).r;
    [[unroll]] for (uint i = 0; i < ROWS; ++i) {
      const int iy = iy0 + int(i);
      const bool inside_row = iy >= 0 && iy < int(p.H);
      const int at = x0 + c * plane + (inside_row ? iy : 0) * int(p.W);
      float v[SPAN];
      [[unroll]] for (uint j = 0; j < SPAN; ++j)
        v[j] = inside_row && inside_column[j] ? texelFetch(x, at + at_column[j]).r : 0.0;
      // Input row i is tap row ky of output row r where i = r SH + ky DH: known when this unrolls.
      [[unroll]] for (uint r = 0; r < PH; ++r)
        [[unroll]] for (uint ky = 0; ky < KH; ++ky)
          if (r * SH + ky * DH == i)
            [[unroll]] for (uint kx = 0; kx < KW; ++kx)
              [[unroll]] for (uint m = 0; m < MG; ++m)
                [[unroll]] for (uint q = 0; q < P; ++q)
                  acc[m][r][q] = fma(wt[m][ky * KW + kx], v[q * SW + kx * DW], acc[m][r][q]);
    }
  }
  [[unroll]] for (uint m = 0; m < MG; ++m) {
    if (m >= count) break;
    const float b = texelFetch(bias, int(p.base2 + m0 + m)).r;
    [[unroll]] for (uint r = 0; r < PH; ++r)
      if (oy0 + r < p.OH) {
        const uint at_y = p.base3 + ((batch * p.M + m0 + m) * p.OH + oy0 + r) * p.OW + ox0;
        [[unroll]] for (uint q = 0; q < P; ++q)
          if (ox0 + q < p.OW) {
            const float v = acc[m][r][q] + b;
            y[at_y + q] = value_t(epilogue(v, at_y + q));
          }
      }
  }
}
