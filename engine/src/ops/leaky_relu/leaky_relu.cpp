// x for x >= 0, slope * x below, as torch.nn.LeakyReLU (shaders/activations.glsl). The slope is a
// specialization constant: one pipeline per slope a graph uses.
#include <cmath>

#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {

TensorId ops::leaky_relu(Graph& g, TensorId x, float slope) {
  require(std::isfinite(slope), "leaky_relu: the slope must be a finite number.");
  return add_activation(g, x, "leaky_relu", {ActivationFunction::leaky_relu, slope}, 1.0);
}

// {"type": "leaky_relu", "slope": a}, a defaulting to PyTorch's 0.01.
void register_leaky_relu(Registry& r) {
  r.add("leaky_relu", LayerType{{"slope"}, false, [](const LayerSpec& spec) -> AddLayer {
                                  const float slope = spec.number("slope", 0.01f);
                                  return [slope](Graph& g, const std::vector<TensorId>& in, LayerBuild&) {
                                    return ops::leaky_relu(g, in[0], slope);
                                  };
                                }});
}

}  // namespace vkattn
