// Row softmax and log_softmax over the last dimension (shaders/softmax.glsl): one workgroup per
// row, or for rows of at most kShortRow one row per invocation.
#include "ops/op.h"
#include "ops/registry.h"
#include "softmax.spv.h"
#include "softmax_rows.spv.h"

namespace vkattn {
namespace {

constexpr uint64_t kShortRow = 256;  // the long-row kernel's workgroup size

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
    // The leading dimension is the batch.
    const uint64_t batches = s.size() > 1 ? s[0] : 1, rows_per_batch = rows / batches;
    const bool short_rows = L <= kShortRow;
    Dispatch d{name() + (short_rows ? "_rows" : ""), short_rows ? std::span<const uint32_t>(softmax_rows_spv) : softmax_spv,
               {{n.in[0], 0, rows_per_batch * L}, {n.out[0], 0, rows_per_batch * L}},
               {u32(L), u32(rows_per_batch)}};
    if (log) d.specialization = {1u};  // softmax keeps the shader's default, and its one pipeline
    d.batches = batches;
    d.groups_per_batch = short_rows ? ceil_div(rows_per_batch, threads_per_group(d.spirv)) : rows_per_batch;
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
