// linear against float64: batch and feature counts with remainders, up to the classifier's 3136
// features; with "relu", a relu after it (which the cpu profile runs inside the linear kernel),
// also with NaN and infinite inputs ("special").
#include <algorithm>
#include <array>

#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

// y[r, m] = bias[m] + sum_f w[m, f] x[r, f] for every row r of x (B, F) or (B, N, F)
std::vector<double> reference(const HostTensor& x, const HostTensor& w, const HostTensor& bias) {
  const int64_t F = x.shape.back(), B = element_count(x.shape) / F, M = w.shape[0];
  std::vector<double> y(B * M);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t m = 0; m < M; ++m) {
      double acc = bias.data[m];
      for (int64_t f = 0; f < F; ++f) acc += double(w.data[m * F + f]) * x.data[b * F + f];
      y[b * M + m] = acc;
    }
  return y;
}

// {"B", "F", "M", "relu": bool, "N"}: x (B, F), or with N tokens (B, N, F); weight (M, F), bias (M).
Prepared prepare(const Spec& s, Rng& rng) {
  const int64_t F = integer(s, "F"), M = integer(s, "M");
  Prepared p;
  const Shape shape = s.contains("N") ? Shape{integer(s, "B"), integer(s, "N"), F} : Shape{integer(s, "B"), F};
  auto x = random(rng, shape), w = random(rng, {M, F}), b = random(rng, {M});
  const std::string kind = special(s);
  for (int64_t row : {1, 4})  // with "special", one NaN (or +inf, then -inf) in rows 1 and 4; the others finite
    if (!kind.empty() && row < x.shape[0])
      x.data[row * F + std::uniform_int_distribution<int64_t>(0, F - 1)(rng)] = kind == "nan" ? kNaN : row == 1 ? kInf : -kInf;
  Graph& g = p.graph;
  const bool relu = s.value("relu", false);
  const TensorId y = ops::linear(g, g.input("x", x.shape), g.weight("w", w), g.weight("b", b));
  g.output("y", relu ? ops::relu(g, y) : y);
  p.reference = [=] {
    auto y = reference(x, w, b);
    if (relu)
      for (double& v : y) v = max_nan(v, 0.0);
    return Outputs{{"y", y}};
  };
  p.inputs = {{"x", std::move(x)}};
  return p;
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  std::vector<std::array<int64_t, 3>> shapes = {{1, 1, 1}, {8, 100, 10}, {65, 3136, 257}};
  if (!o.quick) shapes.insert(shapes.end(), {{257, 1000, 72}, {3, 17000, 5}});  // a weight row past 64 KiB
  std::vector<Spec> specs;
  for (auto [B, F, M] : shapes) specs.push_back({{"B", B}, {"F", F}, {"M", M}});
  specs.push_back({{"B", 9}, {"F", 50}, {"M", 13}, {"relu", true}});
  // Tokens: a ViT's (B, 197, 64) and rows that leave remainders everywhere.
  specs.push_back({{"B", 2}, {"N", 197}, {"F", 64}, {"M", 192}});
  specs.push_back({{"B", 3}, {"N", 5}, {"F", 7}, {"M", 9}, {"relu", true}});
  for (const char* kind : {"nan", "inf"}) specs.push_back({{"B", 9}, {"F", 50}, {"M", 13}, {"relu", true}, {"special", kind}});
  return specs;
}

}  // namespace

void register_linear_check(CheckRegistry& r) { r.add({"linear", matrix, prepare}); }

}  // namespace vkattn::conformance
