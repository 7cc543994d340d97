// max(x, 0) (shaders/relu.comp).
#include "ops/op.h"
#include "ops/registry.h"
#include "relu.spv.h"

namespace vkattn {
namespace {

struct Relu final : Op {
  std::string name() const override { return "relu"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    require(!in[0].empty(), "relu: the input must have at least one dimension.");
    return {in[0]};
  }

  Dispatch dispatch(const NodeShapes& n) const override { return elementwise_dispatch("relu", relu_spv, n); }
  double flops(const NodeShapes& n) const override { return double(element_count(n.in_shape[0])); }
};

}  // namespace

TensorId ops::relu(Graph& g, TensorId x) { return add(g, std::make_shared<Relu>(), {x})[0]; }

// {"type": "relu"}
void register_relu(Registry& r) { r.add("relu", plain_layer(ops::relu)); }

}  // namespace vkattn
