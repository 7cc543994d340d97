// y = gamma * o + x (shaders/residual.comp).
#include "ops/op.h"
#include "ops/registry.h"
#include "residual.spv.h"

namespace vkattn {
namespace {

struct Residual final : Op {
  std::string name() const override { return "residual"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    require_activation(in[1], name(), "input");
    require(in[0] == in[1], "residual: the attention output " + to_string(in[0]) + " and the input " +
                                to_string(in[1]) + " must have the same shape.");
    require(element_count(in[2]) == 1, "residual: gamma must hold one value, but its shape is " + to_string(in[2]) + ".");
    return {in[1]};
  }

  Dispatch dispatch(const NodeShapes& n) const override {
    const uint64_t count = element_count(n.in_shape[1]) / n.in_shape[1][0];
    Dispatch d{"residual", residual_spv,
               {{n.in[0], 0, count}, {n.in[1], 0, count}, {n.in[2]}, {n.out[0], 0, count}}, {u32(count)}};
    d.batches = n.in_shape[1][0];
    d.groups_per_batch = ceil_div(count, threads_per_group(residual_spv));
    return d;
  }

  double flops(const NodeShapes& n) const override { return 2.0 * element_count(n.in_shape[1]); }
};

}  // namespace

TensorId ops::residual(Graph& g, TensorId o, TensorId x, TensorId gamma) {
  return add(g, std::make_shared<Residual>(), {o, x, gamma})[0];
}

// Not a layer of its own: the self_attention layer builds it.
void register_residual(Registry& r) { r.add("residual"); }

}  // namespace vkattn
