// 1 / (1 + e^-x) elementwise (shaders/activations.glsl).
#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {

TensorId ops::sigmoid(Graph& g, TensorId x) { return add_activation(g, x, "sigmoid", {ActivationFunction::sigmoid}, 4.0); }

// {"type": "sigmoid"}
void register_sigmoid(Registry& r) { r.add("sigmoid", plain_layer(ops::sigmoid)); }

}  // namespace vkattn
