// attention_heatmap against float64: column means of the map, scaled per item by its own minimum
// and maximum, resized bilinearly (align_corners=False, PyTorch's source positions) to grids
// larger, smaller and equal to the map's; a constant map (all 0), NaN in a map (all NaN).
#include <algorithm>
#include <cmath>
#include <string>

#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

// Output index d's two source indices and weights along an axis, as F.interpolate's bilinear
// (float32 ratio in / out, source (d + 0.5) ratio - 0.5 clamped at 0).
struct Source {
  int64_t i0, i1;
  double l1;
};
Source source(int64_t d, int64_t in, int64_t out) {
  if (in == out) return {d, d, 0.0};
  const float ratio = float(in) / float(out);
  float real = float(ratio * (d + 0.5) - 0.5);
  if (real < 0) real = 0;
  const int64_t i0 = int64_t(real);
  return {i0, i0 + (i0 < in - 1 ? 1 : 0), double(real) - double(i0)};
}

std::vector<double> reference(const HostTensor& map, int64_t gh, int64_t gw, int64_t oh, int64_t ow) {
  const int64_t B = map.shape[0], N = map.shape[1];
  std::vector<double> out(B * oh * ow);
  for (int64_t b = 0; b < B; ++b) {
    std::vector<double> heat(N, 0.0);
    for (int64_t i = 0; i < N; ++i)
      for (int64_t j = 0; j < N; ++j) heat[j] += map.data[(b * N + i) * N + j];
    for (double& v : heat) v /= double(N);
    const double high = max_nan(heat.data(), heat.data() + N);
    double low = heat[0];
    for (double v : heat) low = std::isnan(v) || std::isnan(low) ? NAN : std::min(low, v);
    const double span = high - low > 0 ? high - low : 1.0;
    for (double& v : heat) v = (v - low) / span;
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t x = 0; x < ow; ++x) {
        const Source r = source(y, gh, oh), c = source(x, gw, ow);
        const auto at = [&](int64_t iy, int64_t ix) { return heat[iy * gw + ix]; };
        const double top = at(r.i0, c.i0) * (1 - c.l1) + at(r.i0, c.i1) * c.l1;
        const double bottom = at(r.i1, c.i0) * (1 - c.l1) + at(r.i1, c.i1) * c.l1;
        out[(b * oh + y) * ow + x] = top * (1 - r.l1) + bottom * r.l1;
      }
  }
  return out;
}

// {"B", "grid": [h, w], "size": [oh, ow]} and optionally "special": "nan", or "constant": 1.
Prepared prepare(const Spec& s, Rng& rng) {
  const Shape grid = shape(s, "grid"), size = shape(s, "size");
  const int64_t B = integer(s, "B"), N = grid[0] * grid[1];
  HostTensor map = random(rng, {B, N, N}, 0.f, 1.f);
  if (s.value("constant", 0)) std::fill(map.data.begin(), map.data.end(), 0.25f);
  sprinkle(map, special(s), 1, rng);
  Prepared p;
  // The scaling divides by the spread of the column means, which for these uniform random maps is
  // a few hundredths: the float32 means' rounding grows by that factor (to ~1e-5 at N = 1024).
  p.bound = 1e-4;
  // At fp16 the means are stored as halves (2^-11 relative of ~0.5) and the same spread divides
  // them: up to ~5e-3 (measured up to 4.1e-3 over the full matrix).
  p.fp16_bound = 1e-2;
  p.graph.output("heat", ops::attention_heatmap(p.graph, p.graph.input("map", map.shape), {grid[0], grid[1]},
                                                {size[0], size[1]}));
  p.reference = [=] { return Outputs{{"heat", reference(map, grid[0], grid[1], size[0], size[1])}}; };
  p.inputs = {{"map", std::move(map)}};
  return p;
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  std::vector<Spec> specs;
  const auto add = [&](int64_t B, Shape grid, Shape size, const char* kind = "") {
    Spec s{{"B", B}, {"grid", grid}, {"size", size}};
    if (std::string(kind) == "constant") s["constant"] = 1;
    else if (*kind) s["special"] = kind;
    specs.push_back(s);
  };
  add(2, {14, 14}, {28, 28});   // the classifier's grid at its input's size
  add(1, {14, 14}, {96, 80});   // a texture of another shape
  add(3, {7, 5}, {7, 5});       // the grid's own size
  add(2, {6, 9}, {4, 3});       // smaller than the grid
  add(1, {1, 1}, {8, 8});       // one position: constant, so 0
  add(2, {5, 5}, {16, 16}, "constant");
  add(2, {5, 5}, {16, 16}, "nan");
  if (!o.quick) add(2, {32, 32}, {256, 256});
  return specs;
}

}  // namespace

void register_attention_heatmap_check(CheckRegistry& r) { r.add({"attention_heatmap", matrix, prepare}); }

}  // namespace vkattn::conformance
