#include "plan.h"

#include <algorithm>
#include <limits>
#include <set>

#include "buffer.h"  // mib
#include "liveness.h"
#include "spirv_reflect.h"

namespace vkattn {
namespace {

// The kernel must declare exactly what the op binds and pushes, or the dispatch would read garbage.
void check_interface(const Dispatch& d, bool image) {
  const ShaderInterface shader = reflect(d.spirv);
  const uint32_t first = image ? 1 : 0;
  bool match = shader.bindings == d.operands.size() + first && shader.sampled_image_mask == (image ? 1u : 0u) &&
               shader.push_constant_bytes == sizeof(PushHeader) + 4 * d.push.size();
  for (size_t b = 0; b < d.operands.size() && match; ++b) {
    const uint32_t bit = 1u << (b + first);
    const BindAs as = d.operands[b].as;
    // No op binds a uniform buffer: a kernel declaring one is a mismatch.
    match = (shader.uniform_buffer_mask & bit) ? false : (shader.texel_buffer_mask & bit) ? is_texels(as) : is_storage(as);
  }
  if (!match)
    throw Error("Internal error: kernel '" + d.kernel + "' declares other bindings or push constants than its op " +
                "binds (" + std::to_string(d.operands.size()) + " buffers) and pushes.");
}

// The most batch items one vkCmdDispatch can take with every binding inside the device's ranges.
uint64_t items_per_chunk(const Graph& graph, const Dispatch& d, const DeviceInfo& info, const std::string& op) {
  uint64_t per_chunk = d.batches;
  for (const Operand& o : d.operands) {
    const auto& t = graph.tensors()[o.tensor];
    const auto [range, align] = bind_limits(o.as, info);
    const uint64_t window = o.extent ? o.extent : o.batch_stride;  // 0: the whole tensor at once
    const uint64_t need = (window ? window : element_count(t.shape)) * sizeof(float);
    if (need + (window ? align : 0) > range)
      throw DeviceLimitError("The " + op + " step needs " + mib(need) + " of tensor '" + t.name + "' " +
                             (o.batch_stride ? "for one batch item" : "at once") + ", more than this device's " +
                             limit_name(o.as) + " (" + mib(range) +
                             "); use a smaller input.");
    if (o.batch_stride) per_chunk = std::min(per_chunk, 1 + (range - align - need) / (o.batch_stride * sizeof(float)));
  }
  const uint64_t most = max_groups(info);
  if (d.groups_per_batch > most)
    throw DeviceLimitError("The " + op + " step needs " + std::to_string(d.groups_per_batch) +
                           " workgroups for one batch item, more than this device's maxComputeWorkGroupCount "
                           "allows; use a smaller input.");
  return std::max<uint64_t>(1, std::min(per_chunk, most / d.groups_per_batch));
}

// A node as the plan runs it: a graph node, or a node and the relu and max pool after it as one.
struct Unit {
  const Op* op;
  std::string name;
  std::vector<TensorId> in, out;
  std::vector<Dispatch> dispatches;
};

// The node view of in -> out, its shapes kept in the two vectors it points into.
NodeShapes shapes_of(const Graph& graph, std::span<const TensorId> in, std::span<const TensorId> out,
                     std::vector<Shape>& in_shapes, std::vector<Shape>& out_shapes) {
  for (TensorId t : in) in_shapes.push_back(graph.shape(t));
  for (TensorId t : out) out_shapes.push_back(graph.shape(t));
  return {in, out, in_shapes, out_shapes};
}

// The graph's nodes with the relus and 2x2 max pools that follow a node folded into it (each
// the only reader of the tensor before it), as far as that node's kernels can apply them as they
// store (Op::fused_dispatches).
std::vector<Unit> fuse_nodes(const Graph& graph, const DeviceInfo& device) {
  std::vector<uint32_t> readers(graph.tensors().size(), 0);
  for (const auto& node : graph.nodes())
    for (TensorId t : node.inputs) ++readers[t];
  for (const auto& [name, id] : graph.outputs()) ++readers[id];
  std::vector<Unit> units;
  const auto& nodes = graph.nodes();
  for (size_t i = 0; i < nodes.size(); ++i) {
    const auto& node = nodes[i];
    // The chain that could fold in: each next node, if it is a relu or a 2x2 max pool (at most one
    // of each; they commute) and the only reader of what the chain has produced so far.
    std::vector<Epilogue> chain;
    for (size_t j = i + 1; j < nodes.size() && node.outputs.size() == 1; ++j) {
      const TensorId last = nodes[j - 1].outputs[0];
      if (nodes[j].inputs != std::vector<TensorId>{last} || readers[last] != 1) break;
      Epilogue e = chain.empty() ? Epilogue{} : chain.back();
      if (nodes[j].op->name() == "relu" && !e.relu) e.relu = true;
      else if (nodes[j].op->is_2x2_max_pool() && !e.max_pool) e.max_pool = true;
      else break;
      chain.push_back(e);
    }
    bool folded = false;
    for (size_t k = chain.size(); k > 0 && !folded; --k) {  // the longest the kernels can apply
      std::vector<Shape> in_shapes, out_shapes;
      const std::vector<TensorId>& out = nodes[i + k].outputs;
      auto fused = node.op->fused_dispatches(shapes_of(graph, node.inputs, out, in_shapes, out_shapes), device, chain[k - 1]);
      if (fused.empty()) continue;
      units.push_back({node.op.get(), node.name, node.inputs, out, std::move(fused)});
      i += k;
      folded = true;
    }
    if (folded) continue;
    std::vector<Shape> in_shapes, out_shapes;
    units.push_back({node.op.get(), node.name, node.inputs, node.outputs,
                     node.op->dispatches(shapes_of(graph, node.inputs, node.outputs, in_shapes, out_shapes), device)});
  }
  return units;
}

// Intermediates live from their writer to their last reader; those that never overlap share.
// Those no unit writes (a fused node's own output) get no memory.
void place_tensors(const Graph& graph, const std::vector<Unit>& units, const DeviceInfo& device, Plan& plan) {
  const auto& tensors = graph.tensors();
  std::set<TensorId> outputs;
  for (const auto& [name, id] : graph.outputs()) {
    if (tensors[id].kind != Graph::Kind::Intermediate)
      throw Error("Output '" + name + "' must be computed by a node, not be a graph input or weight.");
    outputs.insert(id);
  }
  plan.home.assign(tensors.size(), {});
  std::vector<Lifetime> lifetimes;
  std::vector<TensorId> shared;
  for (TensorId id = 0; id < tensors.size(); ++id) {
    const auto kind = tensors[id].kind;
    if (kind != Graph::Kind::Intermediate) {
      plan.home[id].kind = kind == Graph::Kind::Input ? Home::Input : Home::Weight;
    } else if (outputs.count(id)) {
      plan.home[id].kind = Home::Output;
    } else {
      uint32_t first = 0, last = 0;
      bool written = false;
      for (uint32_t n = 0; n < units.size(); ++n) {
        const Unit& unit = units[n];
        if (std::count(unit.out.begin(), unit.out.end(), id)) first = last = n, written = true;
        if (std::count(unit.in.begin(), unit.in.end(), id)) last = n;
      }
      if (!written) {
        plan.home[id].kind = Home::Unused;
        continue;
      }
      lifetimes.push_back({element_count(tensors[id].shape) * sizeof(float), first, last});
      shared.push_back(id);
      plan.memory.unshared_bytes += lifetimes.back().bytes;
    }
  }
  const SlotPlan slots = plan_slots(lifetimes);
  plan.slot_bytes = slots.slot_bytes;
  // Every buffer within the device's allocation limits, checked before anything is allocated.
  const uint64_t most = std::min(device.max_memory_allocation_size, device.max_buffer_size);
  for (TensorId id = 0; id < tensors.size(); ++id) {
    const uint64_t bytes = element_count(tensors[id].shape) * sizeof(float);
    if (bytes > most && plan.home[id].kind != Home::Unused)
      throw DeviceLimitError("Tensor '" + tensors[id].name + "' " + to_string(tensors[id].shape) + " needs " + mib(bytes) +
                             ", more than this device allows in one buffer (" + mib(most) + "); use a smaller input.");
  }
  for (uint64_t b : slots.slot_bytes) plan.memory.intermediate_bytes += b;
  for (size_t i = 0; i < shared.size(); ++i) plan.home[shared[i]] = {Home::Shared, slots.slot_of[i]};
}

}  // namespace

uint64_t max_groups(const DeviceInfo& device) {
  const auto& count = device.max_workgroup_count;
  return std::min<uint64_t>(std::numeric_limits<uint32_t>::max(), uint64_t{count[0]} * count[1] * count[2]);
}

Plan make_plan(const Graph& graph, const DeviceInfo& device, const std::vector<HeadNode>& head) {
  if (graph.outputs().empty()) throw Error("The graph has no outputs; mark at least one with Graph::output.");
  Plan plan;
  const std::vector<Unit> units = fuse_nodes(graph, device);
  place_tensors(graph, units, device, plan);

  // Barriers: a step that reads memory written since the last barrier, or writes memory read or
  // written since then, waits for it. Memory is a tensor's own buffer or a shared one.
  const size_t tensor_count = graph.tensors().size();
  auto memory_of = [&](TensorId t) {
    return plan.home[t].kind == Home::Shared ? tensor_count + plan.home[t].slot : size_t{t};
  };
  std::set<size_t> written, read;
  auto add_steps = [&](const Op& op, const std::string& node, std::span<const TensorId> in,
                       std::span<const TensorId> out, std::vector<Dispatch> dispatches, const std::string& image) {
    std::vector<Shape> in_shapes, out_shapes;
    const double flops = op.flops(shapes_of(graph, in, out, in_shapes, out_shapes)) / double(dispatches.size());
    for (Dispatch& d : dispatches) {
      check_interface(d, !image.empty());
      Step step{d.kernel, node, flops, std::move(d), image, 0, false};
      step.per_chunk = items_per_chunk(graph, step.dispatch, device, op.name());
      for (TensorId t : in) step.barrier_before |= written.count(memory_of(t)) > 0;
      for (TensorId t : out) step.barrier_before |= written.count(memory_of(t)) + read.count(memory_of(t)) > 0;
      if (step.barrier_before) {
        written.clear();
        read.clear();
        ++plan.memory.barriers;
      }
      for (TensorId t : in) read.insert(memory_of(t));
      for (TensorId t : out) written.insert(memory_of(t));
      plan.memory.dispatches += static_cast<uint32_t>(ceil_div(step.dispatch.batches, step.per_chunk));
      plan.steps.push_back(std::move(step));
    }
  };
  for (const HeadNode& h : head) {
    std::vector<Shape> in_shapes, out_shapes;
    const std::span<const TensorId> out(&h.writes, 1);
    add_steps(*h.op, "image '" + h.image + "'", {}, out,
              h.op->dispatches(shapes_of(graph, {}, out, in_shapes, out_shapes), device), h.image);
  }
  for (const Unit& unit : units) add_steps(*unit.op, unit.name, unit.in, unit.out, unit.dispatches, "");
  if (plan.steps.empty()) throw Error("The graph has no nodes to run.");
  // Weights that no kernel this device runs reads (another profile's layout) get no memory.
  std::set<TensorId> bound;
  for (const Step& s : plan.steps)
    for (const Operand& o : s.dispatch.operands) bound.insert(o.tensor);
  for (TensorId t = 0; t < tensor_count; ++t)
    if (plan.home[t].kind == Home::Weight && !bound.count(t)) plan.home[t].kind = Home::Unused;
  return plan;
}

}  // namespace vkattn
