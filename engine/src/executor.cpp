#include "vkattn/executor.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include "buffer.h"
#include "context_impl.h"
#include "liveness.h"
#include "ops/op.h"

namespace vkattn {
namespace {

// One vkCmdDispatch: a node's dispatch, or one batch chunk of it.
struct Chunk {
  const Kernel* kernel;
  std::vector<vk::DescriptorBufferInfo> bindings;
  std::vector<uint32_t> push;  // header followed by the op's fields
  uint32_t grid[3];
};

// A node's dispatch, checked against the device's limits before any memory is allocated.
struct Planned {
  Dispatch dispatch;
  const Kernel* kernel;
  uint64_t per_chunk;  // batch items per vkCmdDispatch
};

struct Step {
  std::vector<Chunk> chunks;
  std::vector<const Buffer*> reads, writes;
};

}  // namespace

struct Executor::Impl {
  Context::Impl& ctx;
  Graph graph;
  std::vector<std::unique_ptr<Buffer>> buffers;
  std::vector<Buffer*> buffer_of;  // per tensor
  vk::raii::DescriptorPool pool{nullptr};
  std::vector<vk::raii::DescriptorSet> sets;
  vk::raii::QueryPool queries{nullptr};
  vk::raii::CommandBuffer cmd{nullptr};
  vk::raii::Fence fence{nullptr};
  MemoryPlan plan;
  std::vector<double> node_flops;
  bool ran = false;

  Impl(Context::Impl& c, const Graph& g) : ctx(c), graph(g) {}
  std::vector<Planned> plan_dispatches();
  void allocate();
  std::vector<Step> make_steps(const std::vector<Planned>& planned);
  Chunk make_chunk(const Dispatch& d, const Kernel& kernel, uint64_t first, uint64_t count) const;
  void record(std::vector<Step>& steps, bool timestamps);
};

void Executor::Impl::allocate() {
  const auto& tensors = graph.tensors();
  const auto& nodes = graph.nodes();
  buffer_of.assign(tensors.size(), nullptr);
  std::set<TensorId> outputs;
  for (const auto& [name, id] : graph.outputs()) {
    if (tensors[id].kind != Graph::Kind::Intermediate)
      throw Error("Output '" + name + "' must be computed by a node, not be a graph input or weight.");
    outputs.insert(id);
  }
  auto own = [&](TensorId id, MemoryUse use, const std::string& what) {
    const uint64_t bytes = element_count(tensors[id].shape) * sizeof(float);
    buffers.push_back(std::make_unique<Buffer>(ctx, bytes, use, what + " '" + tensors[id].name + "'"));
    buffer_of[id] = buffers.back().get();
    return bytes;
  };
  std::vector<Lifetime> lifetimes;
  std::vector<TensorId> shared;
  for (TensorId id = 0; id < tensors.size(); ++id) {
    const auto& t = tensors[id];
    if (t.kind == Graph::Kind::Input) {
      plan.io_bytes += own(id, MemoryUse::Host, "input");
    } else if (t.kind == Graph::Kind::Weight) {
      plan.weight_bytes += own(id, MemoryUse::Device, "weight");
      buffer_of[id]->write(t.value->data.data(), t.value->data.size() * sizeof(float));
    } else if (outputs.count(id)) {
      plan.io_bytes += own(id, MemoryUse::Host, "output");
    } else {
      uint32_t first = 0, last = 0;
      for (uint32_t n = 0; n < nodes.size(); ++n) {
        const auto& node = nodes[n];
        if (std::count(node.outputs.begin(), node.outputs.end(), id)) first = last = n;
        if (std::count(node.inputs.begin(), node.inputs.end(), id)) last = n;
      }
      lifetimes.push_back({element_count(t.shape) * sizeof(float), first, last});
      shared.push_back(id);
      plan.unshared_bytes += lifetimes.back().bytes;
    }
  }
  const SlotPlan slots = plan_slots(lifetimes);
  std::vector<Buffer*> slot_buffers;
  for (size_t s = 0; s < slots.slot_bytes.size(); ++s) {
    buffers.push_back(std::make_unique<Buffer>(ctx, slots.slot_bytes[s], MemoryUse::Device,
                                               "intermediate buffer " + std::to_string(s)));
    slot_buffers.push_back(buffers.back().get());
    plan.intermediate_bytes += slots.slot_bytes[s];
  }
  for (size_t i = 0; i < shared.size(); ++i) buffer_of[shared[i]] = slot_buffers[slots.slot_of[i]];
}

Chunk Executor::Impl::make_chunk(const Dispatch& d, const Kernel& kernel, uint64_t first, uint64_t count) const {
  const auto& info = ctx.info;
  const uint64_t align = std::max<uint32_t>(info.min_storage_buffer_offset_alignment, 4);
  Chunk chunk{&kernel, {}, {}, {}};
  PushHeader header{};
  for (size_t i = 0; i < d.operands.size(); ++i) {
    const Operand& op = d.operands[i];
    const uint64_t bytes = element_count(graph.shape(op.tensor)) * sizeof(float);
    const uint64_t start = (op.offset + first * op.batch_stride) * sizeof(float);
    const uint64_t end = op.batch_stride ? std::min(bytes, (op.offset + (first + count) * op.batch_stride) * sizeof(float))
                                         : bytes;
    const uint64_t aligned = start - start % align;
    header.base[i] = static_cast<uint32_t>((start - aligned) / sizeof(float));
    chunk.bindings.emplace_back(buffer_of[op.tensor]->handle(), aligned, end - aligned);
  }
  const uint64_t groups = count * d.groups_per_batch;
  header.batches = static_cast<uint32_t>(count);
  header.groups = static_cast<uint32_t>(groups);
  header.groups_per_batch = static_cast<uint32_t>(d.groups_per_batch);
  chunk.push.resize(sizeof(PushHeader) / 4);
  std::memcpy(chunk.push.data(), &header, sizeof header);
  chunk.push.insert(chunk.push.end(), d.push.begin(), d.push.end());
  const uint64_t x = std::min<uint64_t>(groups, info.max_workgroup_count[0]);
  const uint64_t y = std::min<uint64_t>(ceil_div(groups, x), info.max_workgroup_count[1]);
  chunk.grid[0] = static_cast<uint32_t>(x);
  chunk.grid[1] = static_cast<uint32_t>(y);
  chunk.grid[2] = static_cast<uint32_t>(ceil_div(groups, x * y));
  return chunk;
}

std::vector<Planned> Executor::Impl::plan_dispatches() {
  const auto& info = ctx.info;
  const uint64_t align = std::max<uint32_t>(info.min_storage_buffer_offset_alignment, 4);
  const uint64_t range = info.max_storage_buffer_range;
  const uint64_t max_groups = std::min<uint64_t>(std::numeric_limits<uint32_t>::max(),
                                                 uint64_t{info.max_workgroup_count[0]} * info.max_workgroup_count[1] *
                                                     info.max_workgroup_count[2]);
  std::vector<Planned> planned;
  for (const auto& node : graph.nodes()) {
    std::vector<Shape> in_shapes, out_shapes;
    for (TensorId t : node.inputs) in_shapes.push_back(graph.shape(t));
    for (TensorId t : node.outputs) out_shapes.push_back(graph.shape(t));
    const NodeShapes view{node.inputs, node.outputs, in_shapes, out_shapes};
    Dispatch d = node.op->dispatch(view);
    node_flops.push_back(node.op->flops(view));
    const Kernel& kernel = ctx.kernel(d.kernel, d.spirv, static_cast<uint32_t>(sizeof(PushHeader) + 4 * d.push.size()));
    if (kernel.bindings != d.operands.size())
      throw Error("Internal error: kernel '" + d.kernel + "' has " + std::to_string(kernel.bindings) +
                  " bindings but its op binds " + std::to_string(d.operands.size()) + ".");

    // The most batch items one dispatch can take while every binding fits the device's range.
    uint64_t per_chunk = d.batches;
    for (const Operand& op : d.operands) {
      const auto& t = graph.tensors()[op.tensor];
      const uint64_t need = op.batch_stride ? op.batch_stride * sizeof(float) : element_count(t.shape) * sizeof(float);
      if (need + (op.batch_stride ? align : 0) > range)
        throw DeviceLimitError("The " + node.op->name() + " step needs " + mib(need) + " of tensor '" + t.name + "' " +
                    (op.batch_stride ? "for one batch item" : "at once") + ", more than this device's " +
                    "maxStorageBufferRange (" + mib(range) + "); use a smaller input.");
      if (op.batch_stride) per_chunk = std::min(per_chunk, (range - align) / need);
    }
    if (d.groups_per_batch > max_groups)
      throw DeviceLimitError("The " + node.op->name() + " step needs " + std::to_string(d.groups_per_batch) +
                  " workgroups for one batch item, more than this device's maxComputeWorkGroupCount allows; "
                  "use a smaller input.");
    per_chunk = std::max<uint64_t>(1, std::min(per_chunk, max_groups / d.groups_per_batch));

    planned.push_back({std::move(d), &kernel, per_chunk});
  }
  return planned;
}

std::vector<Step> Executor::Impl::make_steps(const std::vector<Planned>& planned) {
  std::vector<Step> steps;
  for (size_t n = 0; n < planned.size(); ++n) {
    const auto& [d, kernel, per_chunk] = planned[n];
    const auto& node = graph.nodes()[n];
    Step step;
    for (uint64_t first = 0; first < d.batches; first += per_chunk)
      step.chunks.push_back(make_chunk(d, *kernel, first, std::min(per_chunk, d.batches - first)));
    for (TensorId t : node.inputs) step.reads.push_back(buffer_of[t]);
    for (TensorId t : node.outputs) step.writes.push_back(buffer_of[t]);
    steps.push_back(std::move(step));
  }
  return steps;
}

void Executor::Impl::record(std::vector<Step>& steps, bool timestamps) {
  uint32_t total_sets = 0, total_bindings = 0;
  for (const auto& s : steps)
    for (const auto& c : s.chunks) ++total_sets, total_bindings += static_cast<uint32_t>(c.bindings.size());
  if (total_sets == 0) throw Error("The graph has no nodes to run.");
  const vk::DescriptorPoolSize sizes(vk::DescriptorType::eStorageBuffer, total_bindings);
  pool = vk::raii::DescriptorPool(ctx.device, {vk::DescriptorPoolCreateFlagBits::eFreeDescriptorSet, total_sets, sizes});
  std::vector<vk::DescriptorSetLayout> layouts;
  for (const auto& s : steps)
    for (const auto& c : s.chunks) layouts.push_back(*c.kernel->set_layout);
  sets = ctx.device.allocateDescriptorSets({*pool, layouts});
  std::vector<vk::WriteDescriptorSet> writes;
  size_t set_index = 0;
  for (const auto& s : steps)
    for (const auto& c : s.chunks)
      writes.emplace_back(*sets[set_index++], 0, 0, vk::DescriptorType::eStorageBuffer, nullptr, c.bindings);
  ctx.device.updateDescriptorSets(writes, {});

  const uint32_t query_count = static_cast<uint32_t>(steps.size() + 1);
  if (timestamps) queries = vk::raii::QueryPool(ctx.device, {{}, vk::QueryType::eTimestamp, query_count});

  cmd = std::move(ctx.device.allocateCommandBuffers({*ctx.command_pool, vk::CommandBufferLevel::ePrimary, 1}).front());
  cmd.begin(vk::CommandBufferBeginInfo{});
  if (timestamps) cmd.resetQueryPool(*queries, 0, query_count);
  // The previous run of this same command buffer read and wrote these buffers; order it before
  // this run's writes without relying on the host's fence wait alone.
  const vk::MemoryBarrier between_runs(vk::AccessFlagBits::eShaderRead | vk::AccessFlagBits::eShaderWrite,
                                       vk::AccessFlagBits::eShaderRead | vk::AccessFlagBits::eShaderWrite);
  cmd.pipelineBarrier(vk::PipelineStageFlagBits::eComputeShader, vk::PipelineStageFlagBits::eComputeShader, {},
                      between_runs, {}, {});
  if (timestamps) cmd.writeTimestamp(vk::PipelineStageFlagBits::eBottomOfPipe, *queries, 0);

  std::set<const Buffer*> written, read;  // since the last barrier
  set_index = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& s = steps[i];
    bool hazard = false;
    for (auto* b : s.reads) hazard |= written.count(b) > 0;                          // read after write
    for (auto* b : s.writes) hazard |= written.count(b) > 0 || read.count(b) > 0;   // write after write/read
    if (hazard) {
      // This node touches memory an earlier node wrote (or, for a shared buffer, read).
      const vk::MemoryBarrier barrier(vk::AccessFlagBits::eShaderWrite | vk::AccessFlagBits::eShaderRead,
                                      vk::AccessFlagBits::eShaderRead | vk::AccessFlagBits::eShaderWrite);
      cmd.pipelineBarrier(vk::PipelineStageFlagBits::eComputeShader, vk::PipelineStageFlagBits::eComputeShader, {},
                          barrier, {}, {});
      written.clear();
      read.clear();
      ++plan.barriers;
    }
    for (const Chunk& c : s.chunks) {
      cmd.bindPipeline(vk::PipelineBindPoint::eCompute, *c.kernel->pipeline);
      cmd.bindDescriptorSets(vk::PipelineBindPoint::eCompute, *c.kernel->layout, 0, *sets[set_index++], {});
      cmd.pushConstants<uint32_t>(*c.kernel->layout, vk::ShaderStageFlagBits::eCompute, 0, c.push);
      cmd.dispatch(c.grid[0], c.grid[1], c.grid[2]);
      ++plan.dispatches;
    }
    read.insert(s.reads.begin(), s.reads.end());
    written.insert(s.writes.begin(), s.writes.end());
    if (timestamps) cmd.writeTimestamp(vk::PipelineStageFlagBits::eBottomOfPipe, *queries, static_cast<uint32_t>(i + 1));
  }
  // Outputs are read by the host after the fence.
  const vk::MemoryBarrier to_host(vk::AccessFlagBits::eShaderWrite, vk::AccessFlagBits::eHostRead);
  cmd.pipelineBarrier(vk::PipelineStageFlagBits::eComputeShader, vk::PipelineStageFlagBits::eHost, {}, to_host, {}, {});
  cmd.end();
  fence = vk::raii::Fence(ctx.device, vk::FenceCreateInfo{});
}

Executor::Executor(Context& context, const Graph& graph, const ExecutorOptions& options)
    : impl_(std::make_unique<Impl>(context.impl(), graph)) {
  if (graph.outputs().empty()) throw Error("The graph has no outputs; mark at least one with Graph::output.");
  vulkan_call("preparing the graph", [&] {
    const auto planned = impl_->plan_dispatches();
    impl_->allocate();
    auto steps = impl_->make_steps(planned);
    impl_->record(steps, options.timestamps && context.device().timestamps);
  });
}

Executor::~Executor() = default;
Executor::Executor(Executor&&) noexcept = default;

void Executor::set_input(const std::string& name, const HostTensor& tensor) {
  const auto it = impl_->graph.inputs().find(name);
  if (it == impl_->graph.inputs().end()) throw Error("The graph has no input called '" + name + "'.");
  const Shape& want = impl_->graph.shape(it->second);
  if (tensor.shape != want)
    throw Error("Input '" + name + "' must have shape " + to_string(want) + ", but it has " + to_string(tensor.shape) + ".");
  if (static_cast<int64_t>(tensor.data.size()) != element_count(want))
    throw Error("Input '" + name + "' holds " + std::to_string(tensor.data.size()) + " values, not " +
                std::to_string(element_count(want)) + ".");
  impl_->buffer_of[it->second]->write(tensor.data.data(), tensor.data.size() * sizeof(float));
}

void Executor::run() {
  auto& ctx = impl_->ctx;
  vulkan_call("running the graph", [&] {
    ctx.device.resetFences(*impl_->fence);
    const vk::CommandBuffer handle = *impl_->cmd;
    ctx.queue.submit(vk::SubmitInfo({}, {}, handle), *impl_->fence);
    if (ctx.device.waitForFences(*impl_->fence, VK_TRUE, UINT64_MAX) != vk::Result::eSuccess)
      throw Error("Waiting for the GPU failed.");
  });
  impl_->ran = true;
}

HostTensor Executor::output(const std::string& name) const {
  const auto it = impl_->graph.outputs().find(name);
  if (it == impl_->graph.outputs().end()) throw Error("The graph has no output called '" + name + "'.");
  if (!impl_->ran) throw Error("Output '" + name + "' was read before the graph ran.");
  HostTensor out{impl_->graph.shape(it->second), {}};
  out.data.resize(element_count(out.shape));
  impl_->buffer_of[it->second]->read(out.data.data(), out.data.size() * sizeof(float));
  return out;
}

void Executor::fill_outputs(float value) {
  for (const auto& [name, id] : impl_->graph.outputs()) {
    const std::vector<float> fill(element_count(impl_->graph.shape(id)), value);
    impl_->buffer_of[id]->write(fill.data(), fill.size() * sizeof(float));
  }
}

const MemoryPlan& Executor::memory_plan() const { return impl_->plan; }

std::vector<NodeTiming> Executor::timings() const {
  std::vector<NodeTiming> out;
  if (!*impl_->queries || !impl_->ran) return out;
  const auto& nodes = impl_->graph.nodes();
  const uint32_t count = static_cast<uint32_t>(nodes.size() + 1);
  auto [result, stamps] = impl_->queries.getResults<uint64_t>(
      0, count, count * sizeof(uint64_t), sizeof(uint64_t), vk::QueryResultFlagBits::e64 | vk::QueryResultFlagBits::eWait);
  if (result != vk::Result::eSuccess) return out;
  const double period = impl_->ctx.info.timestamp_period_ns;
  for (size_t i = 0; i < nodes.size(); ++i)
    out.push_back({nodes[i].op->name(), (stamps[i + 1] - stamps[i]) * period * 1e-6, impl_->node_flops[i]});
  return out;
}

}  // namespace vkattn
