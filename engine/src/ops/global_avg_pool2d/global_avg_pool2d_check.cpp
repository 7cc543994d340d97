// global_avg_pool2d against float64 on planes smaller and larger than a workgroup, and on both
// sides of the size where one thread per plane gives way to a workgroup per plane; NaN and
// infinities in some planes (+inf and -inf in one plane make its mean NaN).
#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

// (B, C, H, W) -> the mean of each (H, W) plane.
std::vector<double> reference(const HostTensor& x) {
  const int64_t plane = x.shape[2] * x.shape[3];
  std::vector<double> y(x.shape[0] * x.shape[1], 0.0);
  for (size_t p = 0; p < y.size(); ++p) {
    for (int64_t i = 0; i < plane; ++i) y[p] += x.data[p * plane + i];
    y[p] /= double(plane);
  }
  return y;
}

// {"B", "C", "H", "W"}
Prepared prepare(const Spec& s, Rng& rng) {
  Prepared p;
  auto x = random(rng, {integer(s, "B"), integer(s, "C"), integer(s, "H"), integer(s, "W")});
  sprinkle(x, special(s), x.shape[0] * x.shape[1] / 2 + 1, rng);  // about a third of the planes
  p.graph.output("y", ops::global_avg_pool2d(p.graph, p.graph.input("x", x.shape)));
  p.reference = [=] { return Outputs{{"y", reference(x)}}; };
  p.inputs = {{"x", std::move(x)}};
  return p;
}

std::vector<Spec> matrix(const MatrixOptions&) {
  // Planes of up to 1024 are summed a thread each, larger ones a workgroup each: both sides of 1024.
  return {{{"B", 1}, {"C", 1}, {"H", 1}, {"W", 1}},     {{"B", 8}, {"C", 3}, {"H", 7}, {"W", 13}},
          {{"B", 3}, {"C", 130}, {"H", 7}, {"W", 7}},   {{"B", 2}, {"C", 3}, {"H", 32}, {"W", 32}},
          {{"B", 2}, {"C", 3}, {"H", 32}, {"W", 33}},   {{"B", 1}, {"C", 5}, {"H", 128}, {"W", 128}},
          {{"B", 3}, {"C", 5}, {"H", 7}, {"W", 7}, {"special", "nan"}},
          {{"B", 3}, {"C", 5}, {"H", 7}, {"W", 7}, {"special", "inf"}},
          {{"B", 2}, {"C", 5}, {"H", 32}, {"W", 33}, {"special", "nan"}},
          {{"B", 2}, {"C", 5}, {"H", 32}, {"W", 33}, {"special", "inf"}}};
}

}  // namespace

void register_global_avg_pool2d_check(CheckRegistry& r) { r.add({"global_avg_pool2d", matrix, prepare}); }

}  // namespace vkattn::conformance
