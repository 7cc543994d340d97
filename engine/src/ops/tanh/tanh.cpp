// tanh(x) elementwise (shaders/tanh.comp).
#include "ops/op.h"
#include "ops/registry.h"
#include "tanh.spv.h"

namespace vkattn {

TensorId ops::tanh(Graph& g, TensorId x) { return add(g, std::make_shared<ElementwiseOp>("tanh", tanh_spv, 4.0), {x})[0]; }

// {"type": "tanh"}
void register_tanh(Registry& r) { r.add("tanh", plain_layer(ops::tanh)); }

}  // namespace vkattn
