#include "fp16_storage.h"

#include <algorithm>
#include <vector>

#include "cast_from_stored.spv.h"
#include "cast_to_stored.spv.h"
#include "ops/op.h"

namespace vkattn {
namespace {

// One elementwise copy that changes how the values are stored; the plan runs its fp16 build.
struct Cast final : Op {
  Cast(std::string name, std::span<const uint32_t> spirv) : name_(std::move(name)), spirv_(spirv) {}
  std::string name() const override { return name_; }
  std::vector<Shape> infer(std::span<const Shape> in) const override { return {in[0]}; }
  Dispatch dispatch(const NodeShapes& n) const override { return elementwise_dispatch(name_, spirv_, n); }
  double flops(const NodeShapes&) const override { return 0; }

  // One dispatch over the batch, as any elementwise op; but a batch item larger than one binding
  // (an attention map the attention kernels write in blocks of rows) is cast in blocks of the
  // flat tensor, each within maxStorageBufferRange.
  std::vector<Dispatch> dispatches(const NodeShapes& n, const DeviceInfo& device) const override {
    const Shape& s = n.in_shape[0];
    const uint64_t total = element_count(s), items = s.size() > 1 ? s[0] : 1;
    const auto [range, align] = bind_limits(BindAs::Vec4Storage, device);  // the float32 side binds more
    const uint64_t most = range > align ? (range - align) / sizeof(float) / 4 * 4 : 0;
    if (most == 0 || total / items <= most) return {dispatch(n)};  // (the plan refuses what cannot fit)
    std::vector<Dispatch> out;
    for (uint64_t start = 0; start < total; start += most)  // starts are multiples of 4: vec4s where the count is
      out.push_back(elementwise_dispatch(name_, spirv_, n.in[0], n.out[0], start, std::min(most, total - start), 1));
    return out;
  }

 private:
  std::string name_;
  std::span<const uint32_t> spirv_;
};

}  // namespace

Graph with_fp16_storage(const Graph& graph) {
  const auto to_stored = std::make_shared<Cast>("cast_to_fp16", cast_to_stored_spv);
  const auto from_stored = std::make_shared<Cast>("cast_to_fp32", cast_from_stored_spv);
  Graph out;
  const auto& tensors = graph.tensors();
  std::vector<TensorId> id(tensors.size());  // graph's tensor -> out's
  for (TensorId t = 0; t < tensors.size(); ++t) {
    const Graph::Tensor& tensor = tensors[t];
    if (tensor.kind == Graph::Kind::Weight) id[t] = out.weight(tensor.name, tensor.value);
    if (tensor.kind != Graph::Kind::Input) continue;
    const TensorId input = out.input(tensor.name, tensor.shape);
    id[t] = out.add_node(to_stored, to_stored->name(), {input}, {tensor.shape})[0];
    out.name_node(id[t], "input '" + tensor.name + "' to fp16");
  }
  for (const Graph::Node& node : graph.nodes()) {
    std::vector<TensorId> inputs, produced;
    for (TensorId t : node.inputs) inputs.push_back(id[t]);
    std::vector<Shape> shapes;
    for (TensorId t : node.outputs) shapes.push_back(tensors[t].shape);
    produced = out.add_node(node.op, node.op->name(), inputs, shapes);
    for (size_t i = 0; i < produced.size(); ++i) id[node.outputs[i]] = produced[i];
    if (!produced.empty()) out.name_node(produced[0], node.name);
  }
  for (const auto& [name, t] : graph.outputs()) {
    if (tensors[t].kind != Graph::Kind::Intermediate)  // as make_plan says of any graph
      throw Error("Output '" + name + "' must be computed by a node, not be a graph input or weight.");
    const TensorId value = out.add_node(from_stored, from_stored->name(), {id[t]}, {tensors[t].shape})[0];
    out.name_node(value, "output '" + name + "' to fp32");
    out.output(name, value);
  }
  return out;
}

}  // namespace vkattn
