// Row softmax over the last dimension (shaders/softmax.comp).
#include "ops/op.h"
#include "ops/registry.h"
#include "softmax.spv.h"

namespace vkattn {
namespace {

struct Softmax final : Op {
  std::string name() const override { return "softmax"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    require(!in[0].empty() && element_count(in[0]) >= 1,
            "softmax: the input must have at least one dimension and one element, but it is " + to_string(in[0]) + ".");
    return {in[0]};
  }

  Dispatch dispatch(const NodeShapes& n) const override {
    const Shape& s = n.in_shape[0];
    const uint64_t L = s.back(), rows = element_count(s) / L;
    // The leading dimension is the batch; each row is one workgroup.
    const uint64_t batches = s.size() > 1 ? s[0] : 1, rows_per_batch = rows / batches;
    Dispatch d{"softmax", softmax_spv, {{n.in[0], 0, rows_per_batch * L}, {n.out[0], 0, rows_per_batch * L}}, {u32(L)}};
    d.batches = batches;
    d.groups_per_batch = rows_per_batch;
    return d;
  }

  double flops(const NodeShapes& n) const override { return 5.0 * element_count(n.in_shape[0]); }
};

}  // namespace

TensorId ops::softmax(Graph& g, TensorId x) { return add(g, std::make_shared<Softmax>(), {x})[0]; }

// Not a layer of its own: the self_attention layer builds it.
void register_softmax(Registry& r) { r.add("softmax"); }

}  // namespace vkattn
