#include "plan.h"

#include <algorithm>
#include <limits>
#include <set>

#include "buffer.h"  // mib
#include "fp16_variants.h"
#include "liveness.h"
#include "spirv_reflect.h"

namespace vkattn {
namespace {

// The kernel must declare exactly what the op binds and pushes, each storage buffer with the
// float width its tensor is stored in, or the dispatch would read garbage.
void check_interface(const Dispatch& d, ImageBinding image, const std::vector<uint32_t>& float_bytes) {
  const ShaderInterface shader = reflect(d.spirv);
  const uint32_t first = image != ImageBinding::none ? 1 : 0;
  bool match = shader.bindings == d.operands.size() + first &&
               shader.sampled_image_mask == (image == ImageBinding::sampled ? 1u : 0u) &&
               shader.storage_image_mask == (image == ImageBinding::storage ? 1u : 0u) &&
               shader.push_constant_bytes == sizeof(PushHeader) + 4 * d.push.size();
  for (size_t b = 0; b < d.operands.size() && match; ++b) {
    const uint32_t bit = 1u << (b + first);
    const BindAs as = d.operands[b].as;
    // No op binds a uniform buffer: a kernel declaring one is a mismatch.
    match = (shader.uniform_buffer_mask & bit) ? false : (shader.texel_buffer_mask & bit) ? is_texels(as) : is_storage(as);
    if (match && is_storage(as)) {
      const auto width = shader.storage_float_bytes.find(static_cast<uint32_t>(b + first));
      if (width == shader.storage_float_bytes.end() || width->second != float_bytes[d.operands[b].tensor])
        throw Error("Internal error: kernel '" + d.kernel + "' declares binding " + std::to_string(b + first) +
                    " with other floats than its tensor is stored in (" +
                    std::to_string(8 * float_bytes[d.operands[b].tensor]) + "-bit).");
    }
  }
  if (!match)
    throw Error("Internal error: kernel '" + d.kernel + "' declares other bindings or push constants than its op " +
                "binds (" + std::to_string(d.operands.size()) + " buffers) and pushes.");
}

// The most batch items one vkCmdDispatch can take with every binding inside the device's ranges.
uint64_t items_per_chunk(const Graph& graph, const Dispatch& d, const DeviceInfo& info, const std::string& op,
                         const std::vector<uint32_t>& float_bytes) {
  uint64_t per_chunk = d.batches;
  for (const Operand& o : d.operands) {
    const auto& t = graph.tensors()[o.tensor];
    const uint32_t bytes = float_bytes[o.tensor];
    const auto [range, align] = bind_limits(o.as, info, bytes);
    const uint64_t window = o.extent ? o.extent : o.batch_stride;  // 0: the whole tensor at once
    const uint64_t need = (window ? window : element_count(t.shape)) * bytes;
    if (need + (window ? align : 0) > range)
      throw DeviceLimitError("The " + op + " step needs " + mib(need) + " of tensor '" + t.name + "' " +
                             (o.batch_stride ? "for one batch item" : "at once") + ", more than this device's " +
                             limit_name(o.as) + " (" + mib(range) +
                             "); use a smaller input.");
    if (o.batch_stride) per_chunk = std::min(per_chunk, 1 + (range - align - need) / (o.batch_stride * bytes));
  }
  const uint64_t most = max_groups(info);
  if (d.groups_per_batch > most)
    throw DeviceLimitError("The " + op + " step needs " + std::to_string(d.groups_per_batch) +
                           " workgroups for one batch item, more than this device's maxComputeWorkGroupCount "
                           "allows; use a smaller input.");
  return std::max<uint64_t>(1, std::min(per_chunk, most / d.groups_per_batch));
}

// A node as the plan runs it: a graph node, or a node and the nodes of its epilogue as one.
struct Unit {
  const Op* op;
  std::string name;
  std::vector<TensorId> in, out;  // in: the node's inputs, then the epilogue's residual if any
  std::vector<Dispatch> dispatches;
  size_t op_inputs;  // how many of `in` are the node's own
};

// The node view of in -> out, its shapes kept in the two vectors it points into.
NodeShapes shapes_of(const Graph& graph, std::span<const TensorId> in, std::span<const TensorId> out,
                     std::vector<Shape>& in_shapes, std::vector<Shape>& out_shapes) {
  for (TensorId t : in) in_shapes.push_back(graph.shape(t));
  for (TensorId t : out) out_shapes.push_back(graph.shape(t));
  return {in, out, in_shapes, out_shapes};
}

// One more node of an epilogue: what `e` becomes with `next` folded in after the value `last`,
// and the residual it reads, if any; nothing if it cannot fold. Each step keeps the kernels'
// order (a residual, an activation, a max pool); an activation after the pool folds only when it
// commutes with max.
std::optional<std::pair<Epilogue, std::optional<TensorId>>> extend(const Graph& graph, const Epilogue& e,
                                                                   const Graph::Node& next, TensorId last) {
  const bool only_last = next.inputs == std::vector<TensorId>{last};
  if (const auto a = next.op->activation(); a && only_last && e.activation.function == ActivationFunction::identity &&
                                            (!e.max_pool || a->monotone())) {
    Epilogue out = e;
    out.activation = *a;
    return std::pair{out, std::nullopt};
  }
  if (next.op->is_2x2_max_pool() && only_last && !e.max_pool && !e.residual) {
    Epilogue out = e;
    out.max_pool = true;
    return std::pair{out, std::nullopt};
  }
  if (next.op->adds_two_values() && next.inputs.size() == 2 && !e.residual && !e.max_pool &&
      e.activation.function == ActivationFunction::identity) {
    const TensorId other = next.inputs[0] == last ? next.inputs[1] : next.inputs[0];
    if (other != last && (next.inputs[0] == last || next.inputs[1] == last) &&
        graph.shape(other) == graph.shape(last) && graph.shape(next.outputs[0]) == graph.shape(last)) {
      Epilogue out = e;
      out.residual = true;
      return std::pair{out, other};
    }
  }
  return std::nullopt;
}

// The graph's nodes with the nodes after each folded into its epilogue where its kernels can apply
// them as they store (Op::fused_dispatches): each folded node reads the value before it, which has
// no other reader. A residual comes from before the node (the graph's order is topological and
// the folded nodes follow each other), so the unit reads it as one more input.
std::vector<Unit> fuse_nodes(const Graph& graph, const DeviceInfo& device) {
  std::vector<uint32_t> readers(graph.tensors().size(), 0);
  for (const auto& node : graph.nodes())
    for (TensorId t : node.inputs) ++readers[t];
  for (const auto& [name, id] : graph.outputs()) ++readers[id];
  std::vector<Unit> units;
  const auto& nodes = graph.nodes();
  for (size_t i = 0; i < nodes.size(); ++i) {
    const auto& node = nodes[i];
    std::vector<Epilogue> chain;  // the epilogue with one, two, ... nodes after this one folded in
    std::optional<TensorId> residual;
    std::vector<std::optional<TensorId>> residuals;
    for (size_t j = i + 1; j < nodes.size() && node.outputs.size() == 1; ++j) {
      const TensorId last = nodes[j - 1].outputs[0];
      if (readers[last] != 1 || nodes[j].outputs.size() != 1) break;
      const auto next = extend(graph, chain.empty() ? Epilogue{} : chain.back(), nodes[j], last);
      if (!next) break;
      if (next->second) residual = next->second;
      chain.push_back(next->first);
      residuals.push_back(residual);
    }
    bool folded = false;
    for (size_t k = chain.size(); k > 0 && !folded; --k) {  // the longest the kernels can apply
      std::vector<TensorId> in = node.inputs;
      if (residuals[k - 1]) in.push_back(*residuals[k - 1]);
      std::vector<Shape> in_shapes, out_shapes;
      const std::vector<TensorId>& out = nodes[i + k].outputs;
      auto fused = node.op->fused_dispatches(shapes_of(graph, in, out, in_shapes, out_shapes), device, chain[k - 1]);
      if (fused.empty()) continue;
      units.push_back({node.op.get(), node.name, in, out, std::move(fused), node.inputs.size()});
      i += k;
      folded = true;
    }
    if (folded) continue;
    std::vector<Shape> in_shapes, out_shapes;
    units.push_back({node.op.get(), node.name, node.inputs, node.outputs,
                     node.op->dispatches(shapes_of(graph, node.inputs, node.outputs, in_shapes, out_shapes), device),
                     node.inputs.size()});
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
      lifetimes.push_back({uint64_t(element_count(tensors[id].shape)) * plan.float_bytes[id], first, last});
      shared.push_back(id);
      plan.memory.unshared_bytes += lifetimes.back().bytes;
    }
  }
  const SlotPlan slots = plan_slots(lifetimes);
  plan.slot_bytes = slots.slot_bytes;
  // Every buffer within the device's allocation limits, checked before anything is allocated.
  const uint64_t most = std::min(device.max_memory_allocation_size, device.max_buffer_size);
  for (TensorId id = 0; id < tensors.size(); ++id) {
    const uint64_t bytes = element_count(tensors[id].shape) * plan.float_bytes[id];
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

Plan make_plan(const Graph& graph, const DeviceInfo& device, Precision precision, const std::vector<HeadNode>& head,
               const std::vector<TailNode>& tail) {
  if (graph.outputs().empty()) throw Error("The graph has no outputs; mark at least one with Graph::output.");
  Plan plan;
  // fp16: every tensor but the graph's inputs and outputs (with_fp16_storage put casts there).
  const uint32_t inner_bytes = precision == Precision::fp16 ? 2 : 4;
  plan.float_bytes.assign(graph.tensors().size(), inner_bytes);
  for (const auto& [name, id] : graph.inputs()) plan.float_bytes[id] = 4;
  for (const auto& [name, id] : graph.outputs()) plan.float_bytes[id] = 4;
  const std::vector<Unit> units = fuse_nodes(graph, device);
  place_tensors(graph, units, device, plan);

  // Barriers: a step that reads memory written since the last barrier, or writes memory read or
  // written since then, waits for it. Memory is a tensor's own buffer or a shared one.
  const size_t tensor_count = graph.tensors().size();
  auto memory_of = [&](TensorId t) {
    return plan.home[t].kind == Home::Shared ? tensor_count + plan.home[t].slot : size_t{t};
  };
  std::set<size_t> written, read;
  auto add_steps = [&](const Op& op, const std::string& node, std::span<const TensorId> in, size_t op_inputs,
                       std::span<const TensorId> out, std::vector<Dispatch> dispatches, const std::string& image,
                       ImageBinding image_binding) {
    std::vector<Shape> in_shapes, out_shapes;
    const double flops =
        op.flops(shapes_of(graph, in.first(op_inputs), out, in_shapes, out_shapes)) / double(dispatches.size());
    for (Dispatch& d : dispatches) {
      const std::string kernel = d.kernel;
      // A tensor stored in 16 bits: the kernel's fp16 build (a pipeline of its own).
      if (std::any_of(d.operands.begin(), d.operands.end(), [&](const Operand& o) { return plan.float_bytes[o.tensor] == 2; })) {
        d.spirv = fp16_variant(d.spirv);
        if (d.spirv.empty()) throw Error("Internal error: kernel '" + kernel + "' has no fp16 build.");
        d.kernel += ".fp16";
      }
      check_interface(d, image_binding, plan.float_bytes);
      // What the dispatch must move at least: every tensor it binds, once.
      std::set<TensorId> bound;
      for (const Operand& o : d.operands) bound.insert(o.tensor);
      double bytes = 0;
      for (TensorId t : bound) bytes += double(plan.float_bytes[t]) * double(element_count(graph.shape(t)));
      Step step{kernel, node, flops, bytes, std::move(d), image, image_binding, 0, false};
      step.per_chunk = items_per_chunk(graph, step.dispatch, device, op.name(), plan.float_bytes);
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
    add_steps(*h.op, "image '" + h.image + "'", {}, 0, out,
              h.op->dispatches(shapes_of(graph, {}, out, in_shapes, out_shapes), device), h.image,
              ImageBinding::sampled);
  }
  for (const Unit& unit : units)
    add_steps(*unit.op, unit.name, unit.in, unit.op_inputs, unit.out, unit.dispatches, "", ImageBinding::none);
  for (const TailNode& t : tail) {
    std::vector<Shape> in_shapes, out_shapes;
    const std::span<const TensorId> in(&t.reads, 1);
    add_steps(*t.op, "image '" + t.image + "'", in, 1, {},
              t.op->dispatches(shapes_of(graph, in, {}, in_shapes, out_shapes), device), t.image,
              ImageBinding::storage);
  }
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
