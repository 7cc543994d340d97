// The attention heatmap: column means, per-item min-max scaling and a bilinear resize, made of
// the column_mean, reduce, binary and interpolate kernels (each proven on its own; the whole is
// checked in attention_heatmap_check.cpp).
#include "ops/op.h"
#include "ops/registry.h"
#include "vkattn/ops.h"

namespace vkattn {

TensorId ops::attention_heatmap(Graph& g, TensorId map, Size2 grid, Size2 size) {
  const Shape& m = g.shape(map);
  require(m.size() == 3 && m[1] == m[2],
          "attention_heatmap: the map must be (B, N, N), but it is " + to_string(m) + ".");
  require(grid.h >= 1 && grid.w >= 1 && grid.h * grid.w == m[2],
          "attention_heatmap: a grid of " + std::to_string(grid.h) + " x " + std::to_string(grid.w) +
              " does not have the map's " + std::to_string(m[2]) + " positions.");
  require(size.h >= 1 && size.w >= 1, "attention_heatmap: the picture needs at least one pixel.");
  const auto scalar = [&](const char* name, float v) { return g.weight(name, HostTensor{{}, {v}}); };
  const TensorId received = reshape(g, column_mean(g, map), {1, grid.h, grid.w});
  // The minimum as -max(-x): reduce has no min, and amax keeps a NaN.
  const TensorId negated = binary(g, Binary::mul, received, scalar("heatmap.minus_one", -1.f));
  const TensorId minus_low = amax(g, negated, {1, 2, 3}, true);
  const TensorId high = amax(g, received, {1, 2, 3}, true);
  // A span of 0 (all equal) divides 0 by 2^-24 instead: 0 everywhere, not NaN. 2^-24 is the
  // smallest half, so Precision::fp16 keeps it (FLT_MIN would become 0 there).
  const TensorId span = binary(g, Binary::maximum, binary(g, Binary::add, high, minus_low),
                               scalar("heatmap.smallest_span", 0x1p-24f));
  const TensorId scaled = binary(g, Binary::div, binary(g, Binary::add, received, minus_low), span);
  return interpolate(g, scaled, Interpolation::bilinear, size);
}

// A builder only: its kernels register themselves.
void register_attention_heatmap(Registry&) {}

}  // namespace vkattn
