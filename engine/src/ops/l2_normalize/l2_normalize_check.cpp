// l2_normalize against float64: along channels of (B, C, H, W) and along rows of (B, N, R), the
// whole axis or a part of it, a vector of one entry, and an all-zero vector (divided by 1e-12,
// so it stays zero, as in F.normalize); NaN (its vector NaN) and infinities (an infinite norm:
// inf / inf is NaN, the other entries 0).
#include <algorithm>
#include <cmath>

#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

// {"shape": [...], "along": "channels" | "rows", "first": f, "count": n, "zero": true (optional)}
Prepared prepare(const Spec& s, Rng& rng) {
  Prepared p;
  const bool rows = s.at("along") == "rows";
  const int64_t first = integer(s, "first"), count = integer(s, "count");
  auto x = random(rng, shape(s, "shape"), -2.f, 2.f);
  sprinkle(x, special(s), 8, rng);
  const Shape sh = x.shape;
  const int64_t item = element_count(sh) / sh[0], d1 = rows ? item / sh.back() : sh[1], d2 = item / d1;
  if (s.value("zero", false))  // the first vector of the first item: all of its normalised entries 0
    for (int64_t t = 0; t < count; ++t) x.data[rows ? first + t : (first + t) * d2] = 0.f;
  p.graph.output("y", ops::l2_normalize(p.graph, p.graph.input("x", sh),
                                        rows ? ops::NormalizeAlong::rows : ops::NormalizeAlong::channels, first, count));
  p.reference = [=] {
    std::vector<double> y = widen(x.data);
    for (int64_t b = 0; b < sh[0]; ++b)
      for (int64_t v = 0; v < (rows ? d1 : d2); ++v) {
        // Entry t of vector v: rows: (v, first + t); channels: (first + t, v).
        const auto at = [&](int64_t t) { return b * item + (rows ? v * d2 + first + t : (first + t) * d2 + v); };
        double ss = 0;
        for (int64_t t = 0; t < count; ++t) ss += double(x.data[at(t)]) * x.data[at(t)];
        const double norm = max_nan(std::sqrt(ss), 1e-12);
        for (int64_t t = 0; t < count; ++t) y[at(t)] = x.data[at(t)] / norm;
      }
    return Outputs{{"y", std::move(y)}};
  };
  p.inputs = {{"x", std::move(x)}};
  return p;
}

std::vector<Spec> matrix(const MatrixOptions&) {
  return {{{"shape", {2, 8, 5, 7}}, {"along", "channels"}, {"first", 0}, {"count", 8}},
          {{"shape", {3, 11, 1, 1}}, {"along", "channels"}, {"first", 3}, {"count", 5}, {"zero", true}},
          {{"shape", {2, 1, 9}}, {"along", "channels"}, {"first", 0}, {"count", 1}},
          {{"shape", {2, 300, 72}}, {"along", "rows"}, {"first", 0}, {"count", 8}},
          {{"shape", {1, 17, 5}}, {"along", "rows"}, {"first", 2}, {"count", 3}, {"zero", true}},
          {{"shape", {2, 8, 5, 7}}, {"along", "channels"}, {"first", 0}, {"count", 8}, {"special", "nan"}},
          {{"shape", {2, 8, 5, 7}}, {"along", "channels"}, {"first", 2}, {"count", 5}, {"special", "inf"}},
          {{"shape", {2, 40, 9}}, {"along", "rows"}, {"first", 1}, {"count", 6}, {"special", "nan"}},
          {{"shape", {2, 40, 9}}, {"along", "rows"}, {"first", 1}, {"count", 6}, {"special", "inf"}}};
}

}  // namespace

void register_l2_normalize_check(CheckRegistry& r) { r.add({"l2_normalize", matrix, prepare}); }

}  // namespace vkattn::conformance
