// The store of a lane's P positions x MG channels into y (B, M, positions), channel-major, for
// conv2d_direct and projection_pointwise, through the epilogue. Include after y, y4 (the same
// buffer as vec4s), MG, P, GT, VEC4_STORE and epilogue.glsl (P a multiple of 4 and positions too: each channel's P positions are whole
// vec4s; lavapipe stores per lane in a loop, so a vec4 costs about what a float does).
// at: the index of (batch, m0, n0) in y; b: the bias of the lane's channels; channels from `count`
// and positions from `positions` on are not stored.
void store_channel_major(vec4 acc[P][GT], float b[MG], uint at, uint positions, uint n0, uint count) {
  if (VEC4_STORE) {
    [[unroll]] for (uint q = 0; q < P; q += 4)
      [[unroll]] for (uint m = 0; m < MG; ++m)
        if (m < count && n0 + q < positions) {  // then n0 + q + 3 < positions too
          const uint g = m / 4, e = m % 4;
          const vec4 v = vec4(acc[q][g][e], acc[q + 1][g][e], acc[q + 2][g][e], acc[q + 3][g][e]) + b[m];
          y4[(at + m * positions + q) / 4] = value4_t(epilogue(v, at + m * positions + q));
        }
  } else {
    [[unroll]] for (uint q = 0; q < P; ++q)
      [[unroll]] for (uint m = 0; m < MG; ++m)
        if (m < count && n0 + q < positions) {
          const float v = acc[q][m / 4][m % 4] + b[m];
          y[at + m * positions + q] = value_t(epilogue(v, at + m * positions + q));
        }
  }
}
