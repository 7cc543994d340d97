// max_pool2d and avg_pool2d against float64, straight from PyTorch's CPU kernels: all-negative
// inputs for max (a padded zero that won would show) and windows that overhang the image;
// ceil_mode where it keeps a last window that overhangs the padding and where it drops one that
// would start in the right padding; dilation, down to a window that misses the input (-inf);
// count_include_pad both ways and divisor_override; NaN (a window holding one is NaN, as in
// PyTorch) and infinities, with a block of -inf that fills whole windows.
#include <algorithm>
#include <array>
#include <cmath>

#include "ops/pool2d/pool2d_check.h"
#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn {

int64_t reference::pooled_size(int64_t in, int64_t k, int64_t s, int64_t pad, int64_t dilation, bool ceil_mode) {
  const double span = double(in + 2 * pad - dilation * (k - 1) - 1 + (ceil_mode ? s - 1 : 0));
  int64_t out = int64_t(std::floor(span / double(s))) + 1;
  if (ceil_mode && (out - 1) * s >= in + pad) --out;  // the last window must start inside
  return out;
}

std::vector<double> reference::pool2d(const std::vector<double>& x, int64_t planes, int64_t H, int64_t W,
                                      const PoolWindows& w, bool max) {
  const int64_t OH = pooled_size(H, w.k.h, w.s.h, w.pad.h, w.dilation.h, w.ceil_mode),
                OW = pooled_size(W, w.k.w, w.s.w, w.pad.w, w.dilation.w, w.ceil_mode);
  std::vector<double> y(planes * OH * OW);
  for (int64_t plane = 0; plane < planes; ++plane)
    for (int64_t oy = 0; oy < OH; ++oy)
      for (int64_t ox = 0; ox < OW; ++ox) {
        const int64_t y0 = oy * w.s.h - w.pad.h, x0 = ox * w.s.w - w.pad.w;
        double acc = max ? -INFINITY : 0.0;
        for (int64_t ky = 0; ky < w.k.h; ++ky)
          for (int64_t kx = 0; kx < w.k.w; ++kx) {
            const int64_t iy = y0 + ky * w.dilation.h, ix = x0 + kx * w.dilation.w;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            const double v = x[(plane * H + iy) * W + ix];
            acc = max ? conformance::max_nan(acc, v) : acc + v;
          }
        if (!max) {  // PyTorch's cpu_avg_pool: the window clipped to the padded input, then to the input
          int64_t y1 = std::min(y0 + w.k.h, H + w.pad.h), x1 = std::min(x0 + w.k.w, W + w.pad.w);
          int64_t divisor = (y1 - y0) * (x1 - x0);
          if (!w.count_include_pad)
            divisor = (std::min(y1, H) - std::max<int64_t>(y0, 0)) * (std::min(x1, W) - std::max<int64_t>(x0, 0));
          if (w.divisor_override) divisor = w.divisor_override;
          acc /= double(divisor);
        }
        y[(plane * OH + oy) * OW + ox] = acc;
      }
  return y;
}

namespace conformance {
namespace {

Size2 size2(const Spec& spec, const char* key, Size2 fallback) {
  if (!spec.contains(key)) return fallback;
  const Shape v = shape(spec, key);
  return {v.at(0), v.at(1)};
}

// {"B", "C", "H", "W", "k": [kh, kw], "stride": [sh, sw], "pad": [ph, pw]} and optionally
// "dil": [dh, dw] (max), "ceil": 1, "cip": 0 (count_include_pad false), "div": divisor_override.
Prepared prepare(const Spec& s, Rng& rng, bool max) {
  reference::PoolWindows w{size2(s, "k", {}), size2(s, "stride", {}), size2(s, "pad", {}), size2(s, "dil", {1, 1}),
                           s.value("ceil", 0) != 0, s.value("cip", 1) != 0, s.value("div", int64_t{0})};
  Prepared p;
  auto x = random(rng, {integer(s, "B"), integer(s, "C"), integer(s, "H"), integer(s, "W")}, max ? -2.f : -1.f,
                  max ? -0.5f : 1.f);
  const std::string kind = special(s);
  sprinkle(x, kind, int64_t(x.data.size() / 16 + 1), rng);
  if (kind == "inf")  // the first plane's top-left 4x4: -inf alone in the windows inside it
    for (int64_t i = 0; i < std::min<int64_t>(4, x.shape[2]); ++i)
      for (int64_t j = 0; j < std::min<int64_t>(4, x.shape[3]); ++j) x.data[i * x.shape[3] + j] = -kInf;
  const TensorId in = p.graph.input("x", x.shape);
  p.graph.output("y", max ? ops::max_pool2d(p.graph, in, w.k, w.s, w.pad, {w.dilation, w.ceil_mode})
                          : ops::avg_pool2d(p.graph, in, w.k, w.s, w.pad,
                                            {w.ceil_mode, w.count_include_pad, w.divisor_override}));
  p.reference = [=] {
    return Outputs{{"y", reference::pool2d(widen(x.data), x.shape[0] * x.shape[1], x.shape[2], x.shape[3], w, max)}};
  };
  p.inputs = {{"x", std::move(x)}};
  return p;
}

Spec window(Shape in, Shape k, Shape s, Shape pad) {
  return {{"B", in[0]}, {"C", in[1]}, {"H", in[2]}, {"W", in[3]}, {"k", k}, {"stride", s}, {"pad", pad}};
}
Spec with(Spec spec, const char* key, Spec value) {
  spec[key] = std::move(value);
  return spec;
}

// Cases both pools take: the plain windows, and ceil_mode.
std::vector<Spec> common(const MatrixOptions& o) {
  std::vector<Spec> specs;
  for (const auto& [k, s, pad] : std::vector<std::array<Shape, 3>>{
           {Shape{2, 2}, Shape{2, 2}, Shape{0, 0}}, {Shape{3, 3}, Shape{2, 2}, Shape{1, 1}}, {Shape{3, 2}, Shape{3, 1}, Shape{0, 1}}})
    for (const Shape& in : {Shape{1, 1, 3, 3}, Shape{8, 5, 7, 13}, Shape{1, 3, 128, 128}})
      if (!o.quick || in[2] != 128) specs.push_back(window(in, k, s, pad));
  // Rows: 5 windows with ceil_mode against 4 without, the last starting in the input and
  // overhanging the padding; columns: a 4th window would start in the right padding, so 3.
  specs.push_back(with(window({2, 3, 8, 5}, {3, 2}, {2, 2}, {1, 1}), "ceil", 1));
  // 3 windows of 3 against 2 without, the last over row 5, the padded row 6 and nothing.
  specs.push_back(with(window({3, 2, 6, 11}, {3, 3}, {3, 3}, {1, 1}), "ceil", 1));
  specs.push_back(with(window({1, 4, 7, 13}, {2, 2}, {2, 2}, {0, 0}), "ceil", 1));  // odd sizes: a half window
  specs.push_back(with(window({2, 3, 3, 3}, {5, 5}, {5, 5}, {0, 0}), "ceil", 1));   // a kernel past the input
  for (const char* kind : {"nan", "inf"}) {
    for (const Shape& pad : {Shape{0, 0}, Shape{1, 1}})
      specs.push_back(with(window({2, 3, 9, 13}, {3, 3}, {2, 2}, pad), "special", kind));
    specs.push_back(with(with(window({2, 3, 8, 5}, {3, 2}, {2, 2}, {1, 1}), "ceil", 1), "special", kind));
  }
  return specs;
}

std::vector<Spec> max_matrix(const MatrixOptions& o) {
  std::vector<Spec> specs = common(o);
  specs.push_back(with(window({2, 5, 9, 13}, {3, 3}, {1, 1}, {1, 1}), "dil", {2, 2}));
  specs.push_back(with(window({1, 3, 11, 7}, {3, 2}, {2, 1}, {1, 0}), "dil", {2, 3}));
  specs.push_back(with(with(window({2, 3, 10, 9}, {2, 3}, {2, 2}, {1, 1}), "dil", {3, 2}), "ceil", 1));
  // Taps -1, 2 and 5 along columns of 2: no input element, so -inf (PyTorch's too).
  specs.push_back(with(with(window({2, 3, 4, 2}, {3, 3}, {5, 5}, {1, 1}), "dil", {3, 3}), "ceil", 1));
  for (const char* kind : {"nan", "inf"})
    specs.push_back(with(with(window({2, 3, 9, 13}, {3, 3}, {1, 2}, {1, 1}), "dil", {2, 2}), "special", kind));
  return specs;
}

std::vector<Spec> avg_matrix(const MatrixOptions& o) {
  std::vector<Spec> specs = common(o);
  for (const Spec& base : {window({8, 5, 7, 13}, {3, 3}, {2, 2}, {1, 1}), window({1, 3, 6, 11}, {3, 3}, {3, 3}, {1, 1}),
                           with(window({2, 3, 8, 5}, {3, 2}, {2, 2}, {1, 1}), "ceil", 1),
                           with(window({3, 2, 6, 11}, {3, 3}, {3, 3}, {1, 1}), "ceil", 1)}) {
    specs.push_back(with(base, "cip", 0));
    specs.push_back(with(base, "div", 5));
  }
  specs.push_back(with(with(with(window({2, 3, 7, 9}, {3, 3}, {2, 2}, {1, 1}), "ceil", 1), "cip", 0), "div", 2));
  for (const char* kind : {"nan", "inf"})
    specs.push_back(with(with(with(window({2, 3, 8, 5}, {3, 2}, {2, 2}, {1, 1}), "ceil", 1), "cip", 0), "special", kind));
  return specs;
}

}  // namespace

void register_pool2d_check(CheckRegistry& r) {
  r.add({"max_pool2d", max_matrix, [](const Spec& s, Rng& rng) { return prepare(s, rng, true); }});
  r.add({"avg_pool2d", avg_matrix, [](const Spec& s, Rng& rng) { return prepare(s, rng, false); }});
}

}  // namespace conformance
}  // namespace vkattn
