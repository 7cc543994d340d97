// k tensors of one shape (B, ...) stacked along a new dimension 1 (shaders/stack.comp): one
// dispatch per input and block of elements, each block within one binding.
#include "ops/op.h"
#include "ops/registry.h"
#include "stack.spv.h"

namespace vkattn {
namespace {

struct Stack final : Op {
  std::string name() const override { return "stack"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    require(!in.empty(), name() + ": there must be at least one tensor to stack.");
    require(in[0].size() >= 1 && element_count(in[0]) >= 1,
            name() + ": the tensors must have a batch dimension and elements, but the first is " + to_string(in[0]) + ".");
    for (const Shape& s : in)
      require(s == in[0], name() + ": every tensor must have the first one's shape " + to_string(in[0]) + ", but one is " +
                              to_string(s) + ".");
    Shape out = in[0];
    out.insert(out.begin() + 1, int64_t(in.size()));
    return {out};
  }

  Dispatch dispatch(const NodeShapes&) const override {
    throw Error("Internal error: stack runs as one dispatch per input and block (dispatches()).");
  }

  std::vector<Dispatch> dispatches(const NodeShapes& n, const DeviceInfo& device) const override {
    const uint64_t B = n.in_shape[0][0], E = element_count(n.in_shape[0]) / B, k = n.in.size();
    const uint64_t per_block = rows_per_block(E, 1, device, BindAs::Storage, "stack: one element");
    std::vector<Dispatch> out;
    for (uint64_t t = 0; t < k; ++t)
      for (uint64_t e0 = 0; e0 < E; e0 += per_block) {
        const uint64_t count = std::min(per_block, E - e0);
        Dispatch d{name(), stack_spv, {{n.in[t], e0, E, count}, {n.out[0], t * E + e0, k * E, count}},
                   {u32(count), u32(E), u32(k * E)}};
        d.batches = B;
        d.groups_per_batch = ceil_div(count, threads_per_group(stack_spv));
        out.push_back(std::move(d));
      }
    return out;
  }

  double flops(const NodeShapes&) const override { return 0; }
};

}  // namespace

TensorId ops::stack(Graph& g, const std::vector<TensorId>& tensors) {
  return add(g, std::make_shared<Stack>(), tensors)[0];
}

// Part of the multi-head layer's per-head maps.
void register_stack(Registry& r) { r.add("stack"); }

}  // namespace vkattn
