// (B, d1, d2, ...) -> (B, d1 * d2 * ...) (shaders/flatten.comp). The data keeps its order; the
// copy gives the flattened tensor a buffer of its own, so the graph needs no aliasing.
#include "flatten.spv.h"
#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {
namespace {

struct Flatten final : Op {
  std::string name() const override { return "flatten"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    require(in[0].size() >= 2, "flatten: the input must be (B, ...) with at least two dimensions, but it is " +
                                   to_string(in[0]) + ".");
    return {{in[0][0], element_count(in[0]) / in[0][0]}};
  }

  Dispatch dispatch(const NodeShapes& n) const override { return elementwise_dispatch("flatten", flatten_spv, n); }
  double flops(const NodeShapes&) const override { return 0; }
};

}  // namespace

TensorId ops::flatten(Graph& g, TensorId x) { return add(g, std::make_shared<Flatten>(), {x})[0]; }

// {"type": "flatten"}
void register_flatten(Registry& r) { r.add("flatten", plain_layer(ops::flatten)); }

}  // namespace vkattn
