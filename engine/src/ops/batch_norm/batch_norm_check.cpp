// Eval-mode batch norm against float64 straight from its definition, (x - running_mean) /
// sqrt(running_var + eps) * weight + bias: BatchNorm1d on (B, C) and (B, C, L), 2d, 3d; affine,
// weight only, none; PyTorch's eps and a large one with some running variances 0; planes that are
// and are not whole vec4s; NaN and infinities (an infinity times a zero weight is NaN, as in PyTorch).
#include <cmath>

#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

// {"shape": [B, C, ...], "affine": "both" | "weight" | "none", "eps": e, "zero_var": bool, "special"}
Prepared prepare(const Spec& s, Rng& rng) {
  Prepared p;
  const Shape xs = shape(s, "shape");
  const int64_t C = xs[1], plane = element_count(xs) / xs[0] / C;
  const std::string affine = s.value("affine", "both");
  const double eps = s.value("eps", 1e-5);
  auto x = random(rng, xs, -3.f, 3.f);
  sprinkle(x, special(s), int64_t(x.data.size() / 8 + 1), rng);
  const HostTensor mean = random(rng, {C}, -1.f, 1.f);
  HostTensor var = random(rng, {C}, 0.05f, 2.f);
  if (s.value("zero_var", false))
    for (int64_t c = 0; c < C; c += 3) var.data[c] = 0;
  std::optional<HostTensor> weight, bias;
  if (affine != "none") {
    weight = random(rng, {C}, -2.f, 2.f);
    if (special(s) == "inf") weight->data[0] = 0;  // inf * 0
  }
  if (affine == "both") bias = random(rng, {C}, -1.f, 1.f);
  p.graph.output("y", ops::batch_norm(p.graph, p.graph.input("x", xs), mean, var, weight, bias, eps));
  p.reference = [=] {
    std::vector<double> y(x.data.size());
    for (size_t i = 0; i < y.size(); ++i) {
      const int64_t c = int64_t(i) / plane % C;
      const double w = weight ? weight->data[c] : 1.0, b = bias ? bias->data[c] : 0.0;
      y[i] = (x.data[i] - double(mean.data[c])) / std::sqrt(double(var.data[c]) + eps) * w + b;
    }
    return Outputs{{"y", std::move(y)}};
  };
  p.inputs = {{"x", std::move(x)}};
  // The fold rounds scale and shift to float32: where x is close to running_mean, x * scale +
  // shift cancels, so single elements can be off by more than float32 rounding of y.
  p.bound = 1e-5;
  return p;
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  std::vector<Spec> specs;
  for (const char* affine : {"both", "weight", "none"}) {
    specs.push_back({{"shape", {3, 1}}, {"affine", affine}});            // one channel
    specs.push_back({{"shape", {5, 7}}, {"affine", affine}});            // BatchNorm1d on (B, C)
    specs.push_back({{"shape", {3, 5, 13}}, {"affine", affine}});        // BatchNorm1d on (B, C, L)
    specs.push_back({{"shape", {2, 6, 7, 11}}, {"affine", affine}});     // planes of 77
    specs.push_back({{"shape", {2, 3, 4, 5, 7}}, {"affine", affine}});   // BatchNorm3d
  }
  specs.push_back({{"shape", {4, 16, 8, 8}}, {"affine", "both"}});  // whole vec4s
  specs.push_back({{"shape", {3, 12, 5, 5}}, {"affine", "both"}, {"eps", 1e-3}, {"zero_var", true}});
  specs.push_back({{"shape", {2, 9}}, {"affine", "none"}, {"eps", 0.1}, {"zero_var", true}});
  for (const char* kind : {"nan", "inf"}) {
    specs.push_back({{"shape", {2, 5, 7, 3}}, {"affine", "both"}, {"special", kind}});
    specs.push_back({{"shape", {3, 8, 4, 4}}, {"affine", "weight"}, {"special", kind}});
  }
  if (!o.quick) specs.push_back({{"shape", {8, 64, 56, 56}}, {"affine", "both"}});
  return specs;
}

}  // namespace

void register_batch_norm_check(CheckRegistry& r) { r.add({"batch_norm", matrix, prepare}); }

}  // namespace vkattn::conformance
