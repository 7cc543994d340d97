// max(x, 0) (shaders/relu.comp).
#include "ops/op.h"
#include "ops/registry.h"
#include "relu.spv.h"

namespace vkattn {

TensorId ops::relu(Graph& g, TensorId x) { return add(g, std::make_shared<ElementwiseOp>("relu", relu_spv, 1.0), {x})[0]; }

// {"type": "relu"}
void register_relu(Registry& r) { r.add("relu", plain_layer(ops::relu)); }

}  // namespace vkattn
