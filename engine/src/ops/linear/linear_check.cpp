// linear against float64: batch and feature counts with remainders, up to the classifier's 3136
// features; with "then", a residual add and an activation after it (which the cpu profile runs
// inside the linear kernel: a transformer block's fc2 and its residual), also with NaN and
// infinite inputs ("special").
#include <algorithm>
#include <array>
#include <cmath>
#include <functional>

#include "ops/activation/epilogue_check.h"
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

// The relative error float32 sums may show: about 4 u sqrt(F) times the norm of the products
// over the norm of their sums. A few outputs whose products cancel (one row, one feature) sum to
// a small number with the rounding error of large ones, so a fixed bound fails them by chance.
double rounding_bound(const HostTensor& x, const HostTensor& w, const HostTensor& bias, const std::vector<double>& y) {
  const int64_t F = x.shape.back(), B = element_count(x.shape) / F, M = w.shape[0];
  double products = 0, sums = 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t m = 0; m < M; ++m) {
      if (!std::isfinite(y[b * M + m])) continue;
      double p = double(bias.data[m]) * bias.data[m];
      for (int64_t f = 0; f < F; ++f) p += std::pow(double(w.data[m * F + f]) * x.data[b * F + f], 2);
      products += p;
      sums += y[b * M + m] * y[b * M + m];
    }
  const double ratio = sums > 0 ? std::sqrt(products / sums) : 1;
  return std::max(1e-5, 4 * 0x1p-24 * std::sqrt(double(F)) * ratio);
}

// {"B", "F", "M", "then": ["add" | an activation_step name, ...], "N"}: x (B, F), or with N tokens
// (B, N, F); weight (M, F), bias (M); each "add" adds an input "r<i>" of the output's shape.
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
  TensorId y = ops::linear(g, g.input("x", x.shape), g.weight("w", w), g.weight("b", b));
  std::vector<std::function<void(std::vector<double>&)>> steps;  // each step's effect on the reference
  const std::vector<std::string> then = s.value("then", std::vector<std::string>{});
  for (size_t i = 0; i < then.size(); ++i) {
    auto [next, step] = then_step(p, y, then[i], i, rng);
    y = next;
    steps.push_back(std::move(step));
  }
  g.output("y", y);
  p.bound = rounding_bound(x, w, b, reference(x, w, b));
  p.reference = [=] {
    auto y = reference(x, w, b);
    for (const auto& step : steps) step(y);
    return Outputs{{"y", y}};
  };
  p.inputs.insert(p.inputs.begin(), {"x", std::move(x)});
  return p;
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  std::vector<std::array<int64_t, 3>> shapes = {{1, 1, 1}, {8, 100, 10}, {65, 3136, 257}};
  if (!o.quick) shapes.insert(shapes.end(), {{257, 1000, 72}, {3, 17000, 5}});  // a weight row past 64 KiB
  std::vector<Spec> specs;
  for (auto [B, F, M] : shapes) specs.push_back({{"B", B}, {"F", F}, {"M", M}});
  specs.push_back({{"B", 9}, {"F", 50}, {"M", 13}, {"then", {"relu"}}});
  // A transformer block's fc2 with its residual, and fc1 with GELU, on tokens.
  specs.push_back({{"B", 2}, {"N", 17}, {"F", 24}, {"M", 12}, {"then", {"add"}}});
  specs.push_back({{"B", 3}, {"N", 9}, {"F", 16}, {"M", 40}, {"then", {"gelu"}}});
  specs.push_back({{"B", 5}, {"F", 33}, {"M", 7}, {"then", {"add", "hardswish"}}});
  // Tokens: a ViT's (B, 197, 64) and rows that leave remainders everywhere.
  specs.push_back({{"B", 2}, {"N", 197}, {"F", 64}, {"M", 192}});
  specs.push_back({{"B", 3}, {"N", 5}, {"F", 7}, {"M", 9}, {"then", {"relu"}}});
  // Under 8 rows, the cpu profile's lanes run over output channels (projection_narrow.comp): a
  // classifier's last layers at batch 1 (two texels a lane past 1020 outputs, with a tail), whole
  // vec4 stores, and a residual and activation.
  specs.push_back({{"B", 1}, {"F", 576}, {"M", 1025}});
  specs.push_back({{"B", 7}, {"F", 40}, {"M", 1000}, {"then", {"add", "hardswish"}}});
  specs.push_back({{"B", 2}, {"N", 3}, {"F", 20}, {"M", 2052}, {"then", {"add"}}});
  // A ViT-sized fc1 with GELU: the cpu profile's large tile (ops::lane_tile), 16 rows a lane.
  specs.push_back({{"B", 1}, {"N", 197}, {"F", 384}, {"M", 232}, {"then", {"gelu"}}});
  for (const char* kind : {"nan", "inf"})
    specs.push_back({{"B", 9}, {"F", 50}, {"M", 13}, {"then", {"relu"}}, {"special", kind}});
  return specs;
}

}  // namespace

void register_linear_check(CheckRegistry& r) { r.add({"linear", matrix, prepare}); }

}  // namespace vkattn::conformance
