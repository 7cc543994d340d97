// Batched, tiled C = alpha * A·B (+ bias[m]) for the kernels that include it.
// The includer defines the storage order of A, B and C (row-major (m, n) unless C_NMAJOR):
//   A_KMAJOR   A(m,k) at a[k*M + m]  (otherwise a[m*K + k])
//   B_NMAJOR   B(k,n) at b[n*K + k]  (otherwise b[k*N + n])
//   B_IM2COL   B is the im2col matrix of an NCHW image, gathered on the fly: B(k, n) with
//              k = (c, ky, kx) and n = (oy, ox) reads b[(c*H + iy)*W + ix] with
//              iy = oy*stride_h + ky - pad_h (zero outside the image): a k x k convolution as GEMM
//   HAS_BIAS   add bias[m] (binding 3)
//   BIAS_N     add bias[n] instead (binding 3): a linear layer with the batch as the M dimension
//   C_NMAJOR   store C(m, n) at c[n*M + m] (column-major): a projection whose rows are positions
// A 16x16 workgroup computes a (16 TM) x (16 TN) tile of C, TM x TN per thread, stepping K by 16
// through shared memory. The host reads the workgroup size and TM, TN (specialization
// constants 0 and 1) from the SPIR-V to count tiles, so they are stated only here. Loads walk the contiguous dimension so neighbouring threads read neighbours.
#include "common.glsl"

layout(local_size_x = 16, local_size_y = 16, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer ABuffer { value_t a[]; };
layout(std430, binding = 1) readonly buffer BBuffer { value_t b[]; };
layout(std430, binding = 2) writeonly buffer CBuffer { value_t c[]; };
#if defined(HAS_BIAS) || defined(BIAS_N)
layout(std430, binding = 3) readonly buffer BiasBuffer { value_t bias[]; };
#endif

layout(push_constant) uniform Push {
  VKATTN_PUSH_HEADER
  uint M; uint N; uint K;
  uint a_batch_stride; uint b_batch_stride; uint c_batch_stride;  // elements; 0 = shared by all
  uint tiles_n;
  float alpha;
#ifdef B_IM2COL
  uint in_h; uint in_w; uint kernel_h; uint kernel_w;
  uint stride_h; uint stride_w; uint pad_h; uint pad_w; uint out_w;
#endif
} p;

layout(constant_id = 0) const uint TM = 4;
layout(constant_id = 1) const uint TN = 4;
const uint BM = gl_WorkGroupSize.y * TM, BN = gl_WorkGroupSize.x * TN, BK = 16;
const uint THREADS = gl_WorkGroupSize.x * gl_WorkGroupSize.y;

shared float tile_a[BK][BM + 1];
shared float tile_b[BK][BN + 1];

void main() {
  const uint gid = linear_group_id();
  if (gid >= p.groups) return;  // whole workgroup leaves together: no barrier is skipped by some
  const uint batch = gid / p.groups_per_batch;
  const uint tile = gid % p.groups_per_batch;
  const uint m0 = (tile / p.tiles_n) * BM;
  const uint n0 = (tile % p.tiles_n) * BN;
  const uint a0 = p.base0 + batch * p.a_batch_stride;
  const uint b0 = p.base1 + batch * p.b_batch_stride;
  const uint c0 = p.base2 + batch * p.c_batch_stride;
  const uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
  const uint t = ty * gl_WorkGroupSize.x + tx;

  float acc[TM][TN];
  for (uint i = 0; i < TM; ++i)
    for (uint j = 0; j < TN; ++j) acc[i][j] = 0.0;

  for (uint k0 = 0; k0 < p.K; k0 += BK) {
    for (uint e = t; e < BM * BK; e += THREADS) {
#ifdef A_KMAJOR
      const uint mm = e % BM, kk = e / BM;
      const uint m = m0 + mm, k = k0 + kk;
      tile_a[kk][mm] = (m < p.M && k < p.K) ? a[a0 + k * p.M + m] : 0.0;
#else
      const uint kk = e % BK, mm = e / BK;
      const uint m = m0 + mm, k = k0 + kk;
      tile_a[kk][mm] = (m < p.M && k < p.K) ? a[a0 + m * p.K + k] : 0.0;
#endif
    }
    for (uint e = t; e < BK * BN; e += THREADS) {
#if defined(B_IM2COL)
      const uint nn = e % BN, kk = e / BN;
      const uint n = n0 + nn, k = k0 + kk;
      float v = 0.0;
      if (n < p.N && k < p.K) {
        const uint window = p.kernel_h * p.kernel_w, r = k % window;
        // Signed: padding makes the first rows and columns negative.
        const int iy = int((n / p.out_w) * p.stride_h + r / p.kernel_w) - int(p.pad_h);
        const int ix = int((n % p.out_w) * p.stride_w + r % p.kernel_w) - int(p.pad_w);
        if (iy >= 0 && iy < int(p.in_h) && ix >= 0 && ix < int(p.in_w))
          v = b[b0 + ((k / window) * p.in_h + uint(iy)) * p.in_w + uint(ix)];
      }
      tile_b[kk][nn] = v;
#elif defined(B_NMAJOR)
      const uint kk = e % BK, nn = e / BK;
      const uint n = n0 + nn, k = k0 + kk;
      tile_b[kk][nn] = (n < p.N && k < p.K) ? b[b0 + n * p.K + k] : 0.0;
#else
      const uint nn = e % BN, kk = e / BN;
      const uint n = n0 + nn, k = k0 + kk;
      tile_b[kk][nn] = (n < p.N && k < p.K) ? b[b0 + k * p.N + n] : 0.0;
#endif
    }
    barrier();  // tiles complete before anyone reads them
    for (uint kk = 0; kk < BK; ++kk) {
      float av[TM], bv[TN];
      for (uint i = 0; i < TM; ++i) av[i] = tile_a[kk][ty + gl_WorkGroupSize.y * i];
      for (uint j = 0; j < TN; ++j) bv[j] = tile_b[kk][tx + gl_WorkGroupSize.x * j];
      for (uint i = 0; i < TM; ++i)
        for (uint j = 0; j < TN; ++j) acc[i][j] = fma(av[i], bv[j], acc[i][j]);
    }
    barrier();  // everyone done reading before the next step overwrites the tiles
  }

  for (uint i = 0; i < TM; ++i) {
    const uint m = m0 + ty + gl_WorkGroupSize.y * i;
    if (m >= p.M) continue;
#ifdef HAS_BIAS
    const float add = bias[p.base3 + m];
#else
    const float add = 0.0;
#endif
    for (uint j = 0; j < TN; ++j) {
      const uint n = n0 + tx + gl_WorkGroupSize.x * j;
#if defined(BIAS_N)
      if (n < p.N) c[c0 + m * p.N + n] = value_t(p.alpha * acc[i][j] + add + bias[p.base3 + n]);
#elif defined(C_NMAJOR)
      if (n < p.N) c[c0 + n * p.M + m] = value_t(p.alpha * acc[i][j] + add);
#else
      if (n < p.N) c[c0 + m * p.N + n] = value_t(p.alpha * acc[i][j] + add);
#endif
    }
  }
}
