// 1 / (1 + e^-x) elementwise (shaders/sigmoid.comp).
#include "ops/op.h"
#include "ops/registry.h"
#include "sigmoid.spv.h"

namespace vkattn {

TensorId ops::sigmoid(Graph& g, TensorId x) { return add(g, std::make_shared<ElementwiseOp>("sigmoid", sigmoid_spv, 4.0), {x})[0]; }

// {"type": "sigmoid"}
void register_sigmoid(Registry& r) { r.add("sigmoid", plain_layer(ops::sigmoid)); }

}  // namespace vkattn
