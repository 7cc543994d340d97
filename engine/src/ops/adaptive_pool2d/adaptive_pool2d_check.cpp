// adaptive_avg_pool2d and adaptive_max_pool2d against float64 from PyTorch's definition (windows
// start_index / end_index of AdaptivePooling.h): to 1x1, to sizes that divide the input (the
// builder's plain pools), to sizes that leave remainders (windows of two sizes that overlap), to
// sizes larger than the input (rows repeated), non-square and batched; NaN and infinities.
#include <algorithm>
#include <cmath>

#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

// PyTorch's start_index and end_index: floor(i in / out) and ceil((i + 1) in / out).
int64_t start_index(int64_t i, int64_t out, int64_t in) { return (i / out) * in + ((i % out) * in) / out; }
int64_t end_index(int64_t i, int64_t out, int64_t in) { return 1 + ((i + 1) * in - 1) / out; }

std::vector<double> reference(const HostTensor& x, Size2 size, bool max) {
  const int64_t planes = x.shape[0] * x.shape[1], H = x.shape[2], W = x.shape[3];
  std::vector<double> y(planes * size.h * size.w);
  for (int64_t plane = 0; plane < planes; ++plane)
    for (int64_t oy = 0; oy < size.h; ++oy)
      for (int64_t ox = 0; ox < size.w; ++ox) {
        const int64_t y0 = start_index(oy, size.h, H), y1 = end_index(oy, size.h, H);
        const int64_t x0 = start_index(ox, size.w, W), x1 = end_index(ox, size.w, W);
        double acc = max ? -INFINITY : 0.0;
        for (int64_t iy = y0; iy < y1; ++iy)
          for (int64_t ix = x0; ix < x1; ++ix) {
            const double v = x.data[(plane * H + iy) * W + ix];
            acc = max ? max_nan(acc, v) : acc + v;
          }
        y[(plane * size.h + oy) * size.w + ox] = max ? acc : acc / double((y1 - y0) * (x1 - x0));
      }
  return y;
}

// {"B", "C", "H", "W", "size": [oh, ow]}
Prepared prepare(const Spec& s, Rng& rng, bool max) {
  const Shape size_list = shape(s, "size");
  const Size2 size{size_list.at(0), size_list.at(1)};
  Prepared p;
  auto x = random(rng, {integer(s, "B"), integer(s, "C"), integer(s, "H"), integer(s, "W")}, max ? -2.f : -1.f,
                  max ? -0.5f : 1.f);
  sprinkle(x, special(s), int64_t(x.data.size() / 16 + 1), rng);
  const TensorId in = p.graph.input("x", x.shape);
  p.graph.output("y", max ? ops::adaptive_max_pool2d(p.graph, in, size) : ops::adaptive_avg_pool2d(p.graph, in, size));
  p.reference = [=] { return Outputs{{"y", reference(x, size, max)}}; };
  p.inputs = {{"x", std::move(x)}};
  return p;
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  std::vector<Spec> specs;
  auto add = [&](Shape in, Shape size, const char* kind = "") {
    Spec s{{"B", in[0]}, {"C", in[1]}, {"H", in[2]}, {"W", in[3]}, {"size", size}};
    if (*kind) s["special"] = kind;
    specs.push_back(s);
  };
  add({2, 5, 7, 13}, {1, 1});    // the mean (global_avg_pool2d) and a whole-plane max
  add({3, 2, 1, 1}, {1, 1});
  add({2, 3, 13, 17}, {7, 7});   // remainders: windows of 2 and 3 that overlap
  add({1, 5, 3, 3}, {5, 5});     // larger than the input
  add({2, 3, 1, 1}, {3, 2});
  add({2, 3, 8, 12}, {4, 4});    // divides: a plain pool
  add({1, 7, 6, 9}, {2, 3});
  add({1, 7, 14, 14}, {7, 7});   // 2x2 windows: the max is a foldable 2x2 pool
  add({3, 4, 10, 11}, {3, 5});
  add({1, 3, 5, 9}, {1, 4});
  add({2, 3, 7, 5}, {11, 2});    // larger one way, smaller the other
  if (!o.quick) add({4, 64, 56, 56}, {6, 6});
  for (const char* kind : {"nan", "inf"}) {
    add({2, 3, 13, 17}, {7, 7}, kind);
    add({1, 4, 3, 3}, {5, 5}, kind);
    add({2, 3, 7, 13}, {1, 1}, kind);
  }
  return specs;
}

}  // namespace

void register_adaptive_pool2d_check(CheckRegistry& r) {
  r.add({"adaptive_avg_pool2d", matrix, [](const Spec& s, Rng& rng) { return prepare(s, rng, false); }});
  r.add({"adaptive_max_pool2d", matrix, [](const Spec& s, Rng& rng) { return prepare(s, rng, true); }});
}

}  // namespace vkattn::conformance
