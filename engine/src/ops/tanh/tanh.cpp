// tanh(x) elementwise (shaders/activations.glsl).
#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {

TensorId ops::tanh(Graph& g, TensorId x) { return add_activation(g, x, "tanh", {ActivationFunction::tanh}, 4.0); }

// {"type": "tanh"}
void register_tanh(Registry& r) { r.add("tanh", plain_layer(ops::tanh)); }

}  // namespace vkattn
