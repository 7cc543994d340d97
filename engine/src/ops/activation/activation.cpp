// The activations of modern CNNs (MobileNetV3, EfficientNet, ConvNeXt, ...) and the elementwise
// math functions, on any shape through one shader (shaders/activation.comp): clamp (hardtanh,
// relu6), hardswish, hardsigmoid, silu, gelu (erf or tanh form), elu, exp, log, abs, floor, ceil,
// round, erf, softsign, softplus and mish. The function and its parameters are specialization
// constants: one pipeline per function and parameter set a graph uses. relu, leaky_relu, sigmoid
// and tanh run through the same shader from their own units.
#include <cmath>
#include <limits>

#include "activation.spv.h"
#include "ops/op.h"
#include "ops/registry.h"
#include "vkattn/error.h"

namespace vkattn {
using F = ActivationFunction;

TensorId add_activation(Graph& g, TensorId x, const std::string& name, const Activation& f, double flops_per_element) {
  return add(g, std::make_shared<ElementwiseOp>(name, activation_spv, flops_per_element, f.specialization(), f), {x})[0];
}

TensorId ops::clamp(Graph& g, TensorId x, std::optional<float> min, std::optional<float> max) {
  require(min || max, "clamp: it needs a min, a max or both.");
  require(!(min && std::isnan(*min)) && !(max && std::isnan(*max)), "clamp: min and max must not be NaN.");
  constexpr float inf = std::numeric_limits<float>::infinity();
  return add_activation(g, x, "clamp", {F::clamp, min.value_or(-inf), max.value_or(inf)}, 2.0);
}

TensorId ops::hardswish(Graph& g, TensorId x) { return add_activation(g, x, "hardswish", {F::hardswish}, 5.0); }

TensorId ops::hardsigmoid(Graph& g, TensorId x) {
  return add_activation(g, x, "hardsigmoid", {F::hardsigmoid}, 4.0);
}

TensorId ops::silu(Graph& g, TensorId x) { return add_activation(g, x, "silu", {F::silu}, 5.0); }

// Flops: the erf form costs about two dozen multiply-adds, an exponential and a division.
TensorId ops::gelu(Graph& g, TensorId x, bool tanh_approximation) {
  return tanh_approximation ? add_activation(g, x, "gelu", {F::gelu_tanh}, 12.0)
                            : add_activation(g, x, "gelu", {F::gelu}, 25.0);
}

TensorId ops::elu(Graph& g, TensorId x, float alpha) {
  require(std::isfinite(alpha), "elu: alpha must be a finite number.");
  return add_activation(g, x, "elu", {F::elu, alpha}, 4.0);
}

namespace {

struct UnaryFunction {
  const char* name;
  ops::Unary unary;
  F function;
  double flops;  // per element, roughly: a polynomial's multiply-adds
};
constexpr UnaryFunction kUnary[] = {
    {"exp", ops::Unary::exp, F::exp, 10},   {"log", ops::Unary::log, F::log, 14},
    {"abs", ops::Unary::abs, F::abs, 1},    {"floor", ops::Unary::floor, F::floor, 1},
    {"ceil", ops::Unary::ceil, F::ceil, 1}, {"round", ops::Unary::round, F::round, 1},
    {"erf", ops::Unary::erf, F::erf, 16},   {"softsign", ops::Unary::softsign, F::softsign, 3},
    {"mish", ops::Unary::mish, F::mish, 40}};

}  // namespace

TensorId ops::unary(Graph& g, Unary f, TensorId x) {
  for (const auto& u : kUnary)
    if (u.unary == f) return add_activation(g, x, u.name, {u.function}, u.flops);
  throw Error("Internal error: an elementwise function vkattn does not know.");
}

TensorId ops::softplus(Graph& g, TensorId x, float beta, float threshold) {
  require(std::isfinite(beta) && beta != 0.f, "softplus: beta must be a finite number other than 0.");
  require(!std::isnan(threshold), "softplus: threshold must not be NaN.");
  return add_activation(g, x, "softplus", {F::softplus, beta, threshold}, 26.0);
}

// {"type": "clamp", "min": a, "max": b}: torch.clamp (F.hardtanh(x, a, b), F.relu6 with 0 and
//   6); either may be left out, not both; min > max gives max everywhere, as torch.clamp.
// {"type": "hardswish"}, {"type": "hardsigmoid"}, {"type": "silu"}: nn.Hardswish, nn.Hardsigmoid,
//   nn.SiLU.
// {"type": "gelu", "approximate": "none" | "tanh"}: nn.GELU, default "none" (the erf form).
// {"type": "elu", "alpha": a}: nn.ELU, alpha default 1.0.
// {"type": "exp"}, "log", "abs", "floor", "ceil", "round", "erf", "softsign", "mish": torch.exp,
//   torch.log, torch.abs, torch.floor, torch.ceil, torch.round, torch.erf, F.softsign, F.mish.
// {"type": "softplus", "beta": b, "threshold": t}: F.softplus, defaults 1 and 20.
void register_activation(Registry& r) {
  r.add("clamp", LayerType{{"min", "max"}, false, [](const LayerSpec& spec) -> AddLayer {
                             require(spec.has("min") || spec.has("max"), "it needs a \"min\", a \"max\" or both.");
                             std::optional<float> min, max;
                             if (spec.has("min")) min = spec.number("min", 0.f);
                             if (spec.has("max")) max = spec.number("max", 0.f);
                             return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) {
                               return ops::clamp(g, in[0], min, max);
                             };
                           }});
  r.add("hardswish", plain_layer(ops::hardswish));
  r.add("hardsigmoid", plain_layer(ops::hardsigmoid));
  r.add("silu", plain_layer(ops::silu));
  r.add("gelu", LayerType{{"approximate"}, false, [](const LayerSpec& spec) -> AddLayer {
                            const std::string approximate = spec.text("approximate", "none");
                            require(approximate == "none" || approximate == "tanh",
                                    "its \"approximate\" must be \"none\" or \"tanh\", but it is \"" + approximate + "\".");
                            const bool tanh = approximate == "tanh";
                            return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) {
                              return ops::gelu(g, in[0], tanh);
                            };
                          }});
  r.add("elu", LayerType{{"alpha"}, false, [](const LayerSpec& spec) -> AddLayer {
                           const float alpha = spec.number("alpha", 1.f);
                           return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) {
                             return ops::elu(g, in[0], alpha);
                           };
                         }});
  for (const auto& u : kUnary)
    r.add(u.name, LayerType{{}, false, [f = u.unary](const LayerSpec&) -> AddLayer {
                              return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) {
                                return ops::unary(g, f, in[0]);
                              };
                            }});
  r.add("softplus", LayerType{{"beta", "threshold"}, false, [](const LayerSpec& spec) -> AddLayer {
                                const float beta = spec.number("beta", 1.f), threshold = spec.number("threshold", 20.f);
                                return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) {
                                  return ops::softplus(g, in[0], beta, threshold);
                                };
                              }});
}

}  // namespace vkattn
