// The activations of modern CNNs (MobileNetV3, EfficientNet, ConvNeXt, ...), elementwise on any
// shape through one shader (shaders/activation.comp): clamp (hardtanh, relu6), hardswish,
// hardsigmoid, silu, gelu (erf or tanh form) and elu. The function and its parameters are
// specialization constants: one pipeline per function and parameter set a graph uses.
#include <cmath>
#include <limits>

#include "activation.spv.h"
#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {
namespace {

// The shader's FUNCTION values.
enum class Function : uint32_t { clamp = 0, hardswish, hardsigmoid, silu, gelu, gelu_tanh, elu };

TensorId activation(Graph& g, TensorId x, const std::string& name, Function f, double flops, float a = 0.f,
                    float b = 0.f) {
  return add(g, std::make_shared<ElementwiseOp>(name, activation_spv, flops,
                                                std::vector<uint32_t>{uint32_t(f), bits(a), bits(b)}),
             {x})[0];
}

}  // namespace

TensorId ops::clamp(Graph& g, TensorId x, std::optional<float> min, std::optional<float> max) {
  require(min || max, "clamp: it needs a min, a max or both.");
  require(!(min && std::isnan(*min)) && !(max && std::isnan(*max)), "clamp: min and max must not be NaN.");
  constexpr float inf = std::numeric_limits<float>::infinity();
  return activation(g, x, "clamp", Function::clamp, 2.0, min.value_or(-inf), max.value_or(inf));
}

TensorId ops::hardswish(Graph& g, TensorId x) { return activation(g, x, "hardswish", Function::hardswish, 5.0); }

TensorId ops::hardsigmoid(Graph& g, TensorId x) {
  return activation(g, x, "hardsigmoid", Function::hardsigmoid, 4.0);
}

TensorId ops::silu(Graph& g, TensorId x) { return activation(g, x, "silu", Function::silu, 5.0); }

// Flops: the erf form costs about two dozen multiply-adds, an exponential and a division.
TensorId ops::gelu(Graph& g, TensorId x, bool tanh_approximation) {
  return tanh_approximation ? activation(g, x, "gelu", Function::gelu_tanh, 12.0)
                            : activation(g, x, "gelu", Function::gelu, 25.0);
}

TensorId ops::elu(Graph& g, TensorId x, float alpha) {
  require(std::isfinite(alpha), "elu: alpha must be a finite number.");
  return activation(g, x, "elu", Function::elu, 4.0, alpha);
}

// {"type": "clamp", "min": a, "max": b}: torch.clamp (F.hardtanh(x, a, b), F.relu6 with 0 and
//   6); either may be left out, not both; min > max gives max everywhere, as torch.clamp.
// {"type": "hardswish"}, {"type": "hardsigmoid"}, {"type": "silu"}: nn.Hardswish, nn.Hardsigmoid,
//   nn.SiLU.
// {"type": "gelu", "approximate": "none" | "tanh"}: nn.GELU, default "none" (the erf form).
// {"type": "elu", "alpha": a}: nn.ELU, alpha default 1.0.
void register_activation(Registry& r) {
  r.add("clamp", LayerType{{"min", "max"}, false, [](const LayerSpec& spec) -> AddLayer {
                             require(spec.has("min") || spec.has("max"), "it needs a \"min\", a \"max\" or both.");
                             std::optional<float> min, max;
                             if (spec.has("min")) min = spec.number("min", 0.f);
                             if (spec.has("max")) max = spec.number("max", 0.f);
                             return [=](Graph& g, const std::vector<TensorId>& in, NetworkTensors&) {
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
                            return [=](Graph& g, const std::vector<TensorId>& in, NetworkTensors&) {
                              return ops::gelu(g, in[0], tanh);
                            };
                          }});
  r.add("elu", LayerType{{"alpha"}, false, [](const LayerSpec& spec) -> AddLayer {
                           const float alpha = spec.number("alpha", 1.f);
                           return [=](Graph& g, const std::vector<TensorId>& in, NetworkTensors&) {
                             return ops::elu(g, in[0], alpha);
                           };
                         }});
}

}  // namespace vkattn
