// max_pool2d and avg_pool2d against float64, padding included: all-negative inputs for max (a
// padded zero that won would show) and windows that overhang the image; NaN (a window holding one
// is NaN, as in PyTorch) and infinities, with a block of -inf that fills whole windows.
#include <algorithm>
#include <array>
#include <cmath>

#include "ops/pool2d/pool2d_check.h"
#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn {

std::vector<double> reference::pool2d(const std::vector<double>& x, int64_t planes, int64_t H, int64_t W, Size2 k,
                                      Size2 s, Size2 pad, bool max) {
  const int64_t OH = (H + 2 * pad.h - k.h) / s.h + 1, OW = (W + 2 * pad.w - k.w) / s.w + 1;
  std::vector<double> y(planes * OH * OW);
  for (int64_t plane = 0; plane < planes; ++plane)
    for (int64_t oy = 0; oy < OH; ++oy)
      for (int64_t ox = 0; ox < OW; ++ox) {
        double acc = max ? -INFINITY : 0.0;
        for (int64_t ky = 0; ky < k.h; ++ky)
          for (int64_t kx = 0; kx < k.w; ++kx) {
            const int64_t iy = oy * s.h + ky - pad.h, ix = ox * s.w + kx - pad.w;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            const double v = x[(plane * H + iy) * W + ix];
            acc = max ? conformance::max_nan(acc, v) : acc + v;
          }
        y[(plane * OH + oy) * OW + ox] = max ? acc : acc / double(k.h * k.w);
      }
  return y;
}

namespace conformance {
namespace {

Size2 size2(const Spec& spec, const char* key) {
  const Shape v = shape(spec, key);
  return {v.at(0), v.at(1)};
}

// {"B", "C", "H", "W", "k": [kh, kw], "stride": [sh, sw], "pad": [ph, pw]}
Prepared prepare(const Spec& s, Rng& rng, bool max) {
  const Size2 k = size2(s, "k"), stride = size2(s, "stride"), pad = size2(s, "pad");
  Prepared p;
  auto x = random(rng, {integer(s, "B"), integer(s, "C"), integer(s, "H"), integer(s, "W")}, max ? -2.f : -1.f,
                  max ? -0.5f : 1.f);
  const std::string kind = special(s);
  sprinkle(x, kind, int64_t(x.data.size() / 16 + 1), rng);
  if (kind == "inf")  // the first plane's top-left 4x4: -inf alone in the windows inside it
    for (int64_t i = 0; i < std::min<int64_t>(4, x.shape[2]); ++i)
      for (int64_t j = 0; j < std::min<int64_t>(4, x.shape[3]); ++j) x.data[i * x.shape[3] + j] = -kInf;
  const TensorId in = p.graph.input("x", x.shape);
  p.graph.output("y", max ? ops::max_pool2d(p.graph, in, k, stride, pad) : ops::avg_pool2d(p.graph, in, k, stride, pad));
  p.reference = [=] {
    return Outputs{{"y", reference::pool2d(widen(x.data), x.shape[0] * x.shape[1], x.shape[2], x.shape[3], k, stride,
                                           pad, max)}};
  };
  p.inputs = {{"x", std::move(x)}};
  return p;
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  std::vector<Spec> specs;
  for (const auto& [k, s, pad] : std::vector<std::array<Shape, 3>>{
           {Shape{2, 2}, Shape{2, 2}, Shape{0, 0}}, {Shape{3, 3}, Shape{2, 2}, Shape{1, 1}}, {Shape{3, 2}, Shape{3, 1}, Shape{0, 1}}})
    for (const Shape& in : {Shape{1, 1, 3, 3}, Shape{8, 5, 7, 13}, Shape{1, 3, 128, 128}})
      if (!o.quick || in[2] != 128)
        specs.push_back({{"B", in[0]}, {"C", in[1]}, {"H", in[2]}, {"W", in[3]}, {"k", k}, {"stride", s}, {"pad", pad}});
  for (const char* kind : {"nan", "inf"})
    for (const Shape& pad : {Shape{0, 0}, Shape{1, 1}})
      specs.push_back({{"B", 2}, {"C", 3}, {"H", 9}, {"W", 13}, {"k", {3, 3}}, {"stride", {2, 2}}, {"pad", pad}, {"special", kind}});
  return specs;
}

}  // namespace

void register_pool2d_check(CheckRegistry& r) {
  r.add({"max_pool2d", matrix, [](const Spec& s, Rng& rng) { return prepare(s, rng, true); }});
  r.add({"avg_pool2d", matrix, [](const Spec& s, Rng& rng) { return prepare(s, rng, false); }});
}

}  // namespace conformance
}  // namespace vkattn
