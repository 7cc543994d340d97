// Row softmax and log_softmax over the last dimension (shaders/softmax.comp).
#include "ops/op.h"
#include "ops/registry.h"
#include "softmax.spv.h"

namespace vkattn {
namespace {

struct Softmax final : Op {
  explicit Softmax(bool log) : log(log) {}
  bool log;  // log_softmax
  std::string name() const override { return log ? "log_softmax" : "softmax"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    require(!in[0].empty() && element_count(in[0]) >= 1,
            name() + ": the input must have at least one dimension and one element, but it is " + to_string(in[0]) + ".");
    return {in[0]};
  }

  Dispatch dispatch(const NodeShapes& n) const override {
    const Shape& s = n.in_shape[0];
    const uint64_t L = s.back(), rows = element_count(s) / L;
    // The leading dimension is the batch; each row is one workgroup.
    const uint64_t batches = s.size() > 1 ? s[0] : 1, rows_per_batch = rows / batches;
    Dispatch d{name(), softmax_spv, {{n.in[0], 0, rows_per_batch * L}, {n.out[0], 0, rows_per_batch * L}}, {u32(L)}};
    if (log) d.specialization = {1u};  // softmax keeps the shader's default, and its one pipeline
    d.batches = batches;
    d.groups_per_batch = rows_per_batch;
    return d;
  }

  double flops(const NodeShapes& n) const override { return 5.0 * element_count(n.in_shape[0]); }
};

}  // namespace

TensorId ops::softmax(Graph& g, TensorId x) { return add(g, std::make_shared<Softmax>(false), {x})[0]; }
TensorId ops::log_softmax(Graph& g, TensorId x) { return add(g, std::make_shared<Softmax>(true), {x})[0]; }

// {"type": "softmax"}, {"type": "log_softmax"}: over the last dimension (a classifier's classes
// after linear; PyTorch's dim=-1).
void register_softmax(Registry& r) {
  r.add("softmax", plain_layer(ops::softmax));
  r.add("log_softmax", plain_layer(ops::log_softmax));
}

}  // namespace vkattn
