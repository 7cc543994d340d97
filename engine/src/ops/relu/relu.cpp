// max(x, 0) (shaders/activations.glsl).
#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {

TensorId ops::relu(Graph& g, TensorId x) { return add_activation(g, x, "relu", {ActivationFunction::relu}, 1.0); }

// {"type": "relu"}
void register_relu(Registry& r) { r.add("relu", plain_layer(ops::relu)); }

}  // namespace vkattn
