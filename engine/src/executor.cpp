#include "vkattn/executor.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <set>

#include "buffer.h"
#include "context_impl.h"
#include "liveness.h"
#include "image_to_tensor.spv.h"
#include "ops/op.h"

namespace vkattn {
namespace {

// One vkCmdDispatch: a node's dispatch, or one batch chunk of it.
struct Chunk {
  const Kernel* kernel;
  std::optional<vk::DescriptorImageInfo> image;  // binding 0 when set; buffers follow it
  std::vector<vk::DescriptorBufferInfo> bindings;
  std::vector<uint32_t> push;  // header followed by the op's fields
  uint32_t grid[3];
};

// A node's dispatch, checked against the device's limits before any memory is allocated.
struct Planned {
  size_t node;
  Dispatch dispatch;
  const Kernel* kernel;
  uint64_t per_chunk;  // batch items per vkCmdDispatch
  double flops;
};

struct Step {
  std::string name;
  double flops = 0;
  std::vector<Chunk> chunks;
  std::vector<VkBuffer> reads, writes;
};

// Where a tensor lives: one of vkattn's buffers or a range of an application's.
struct Binding {
  vk::Buffer buffer;
  uint64_t offset = 0;
  Buffer* owned = nullptr;  // null for an application buffer
};

}  // namespace

struct Executor::Impl {
  Context::Impl& ctx;
  Graph graph;
  std::map<std::string, ExternalBuffer> external;
  std::map<std::string, ExternalImage> images;
  std::vector<vk::raii::ImageView> views;
  vk::raii::Sampler linear{nullptr}, nearest{nullptr};
  std::vector<std::unique_ptr<Buffer>> buffers;
  std::vector<Binding> binding_of;  // per tensor
  std::vector<Step> steps;
  vk::raii::DescriptorPool pool{nullptr};
  std::vector<vk::raii::DescriptorSet> sets;
  vk::raii::QueryPool queries{nullptr};
  vk::raii::CommandBuffer cmd{nullptr};
  vk::raii::Fence fence{nullptr};
  MemoryPlan plan;
  bool ran = false, pending = false;  // pending: a submit() not yet waited for

  Impl(Context::Impl& c, const Graph& g, const ExecutorOptions& o)
      : ctx(c), graph(g), external(o.external), images(o.images) {}
  Step image_step(const std::string& name, const ExternalImage& image);
  ~Impl() {
    if (pending) (void)ctx.device.waitForFences(*fence, VK_TRUE, UINT64_MAX);  // our own fence only
  }
  void wait_pending();
  Buffer* owned(const std::string& name, TensorId id, const char* what) const;
  void record_into(vk::CommandBuffer c, bool timestamps, bool count);
  const Kernel& kernel_for(const Dispatch& d);
  uint64_t max_groups() const;
  std::vector<Planned> plan_dispatches();
  void allocate();
  void make_steps(const std::vector<Planned>& planned);
  Chunk make_chunk(const Dispatch& d, const Kernel& kernel, uint64_t first, uint64_t count) const;
  void record(bool timestamps);
};

void Executor::Impl::allocate() {
  const auto& tensors = graph.tensors();
  const auto& nodes = graph.nodes();
  binding_of.assign(tensors.size(), {});
  std::set<TensorId> outputs;
  for (const auto& [name, id] : graph.outputs()) {
    if (tensors[id].kind != Graph::Kind::Intermediate)
      throw Error("Output '" + name + "' must be computed by a node, not be a graph input or weight.");
    outputs.insert(id);
  }
  // Application buffers first: each names a graph input or output and must hold it.
  std::map<TensorId, ExternalBuffer> outside;
  for (const auto& [name, image] : images) {
    const auto in = graph.inputs().find(name);
    if (in == graph.inputs().end())
      throw Error("ExecutorOptions::images names '" + name + "', which is not an input of the graph.");
    if (external.count(name)) throw Error("Input '" + name + "' is given both an application buffer and an image.");
  }
  for (const auto& [name, ext] : external) {
    const auto in = graph.inputs().find(name), out = graph.outputs().find(name);
    if (in == graph.inputs().end() && out == graph.outputs().end())
      throw Error("ExecutorOptions::external names '" + name + "', which is neither an input nor an output of the graph.");
    const TensorId id = in != graph.inputs().end() ? in->second : out->second;
    const uint64_t bytes = element_count(tensors[id].shape) * sizeof(float);
    if (!ext.buffer || ext.offset % 4 != 0 || ext.size < bytes)
      throw Error("The application buffer for '" + name + "' must be a buffer with an offset that is a multiple of 4 "
                  "and at least " + std::to_string(bytes) + " bytes, but it has " + std::to_string(ext.size) + ".");
    outside[id] = ext;
  }
  auto own = [&](TensorId id, MemoryUse use, const std::string& what) {
    const uint64_t bytes = element_count(tensors[id].shape) * sizeof(float);
    if (auto it = outside.find(id); it != outside.end()) {
      binding_of[id] = {it->second.buffer, it->second.offset, nullptr};
      return uint64_t{0};
    }
    buffers.push_back(std::make_unique<Buffer>(ctx, bytes, use, what + " '" + tensors[id].name + "'"));
    binding_of[id] = {buffers.back()->handle(), 0, buffers.back().get()};
    return bytes;
  };
  std::vector<Lifetime> lifetimes;
  std::vector<TensorId> shared;
  for (TensorId id = 0; id < tensors.size(); ++id) {
    const auto& t = tensors[id];
    if (t.kind == Graph::Kind::Input) {
      plan.io_bytes += own(id, images.count(t.name) ? MemoryUse::Device : MemoryUse::Host, "input");
    } else if (t.kind == Graph::Kind::Weight) {
      plan.weight_bytes += own(id, MemoryUse::Device, "weight");
      binding_of[id].owned->write(t.value->data.data(), t.value->data.size() * sizeof(float));
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
  for (size_t i = 0; i < shared.size(); ++i) {
    Buffer* b = slot_buffers[slots.slot_of[i]];
    binding_of[shared[i]] = {b->handle(), 0, b};
  }
}

Chunk Executor::Impl::make_chunk(const Dispatch& d, const Kernel& kernel, uint64_t first, uint64_t count) const {
  const auto& info = ctx.info;
  Chunk chunk{&kernel, std::nullopt, {}, {}, {}};
  PushHeader header{};
  for (size_t i = 0; i < d.operands.size(); ++i) {
    const Operand& op = d.operands[i];
    const Binding& where = binding_of[op.tensor];
    const uint64_t bytes = element_count(graph.shape(op.tensor)) * sizeof(float);
    const uint64_t align = std::max<uint64_t>(op.uniform ? info.min_uniform_buffer_offset_alignment
                                                         : info.min_storage_buffer_offset_alignment, 4);
    const uint64_t start = where.offset + (op.offset + first * op.batch_stride) * sizeof(float);
    const uint64_t extent = op.extent ? op.extent : op.batch_stride;  // what each item reads from its start
    const uint64_t end =
        where.offset + (op.batch_stride ? std::min(bytes, (op.offset + (first + count - 1) * op.batch_stride + extent) *
                                                              sizeof(float))
                                        : bytes);
    const uint64_t aligned = start - start % align;
    header.base[i] = static_cast<uint32_t>((start - aligned) / sizeof(float));
    chunk.bindings.emplace_back(where.buffer, aligned, end - aligned);
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

// The pipeline for a dispatch, with the push-constant size the executor will push.
const Kernel& Executor::Impl::kernel_for(const Dispatch& d) {
  return ctx.kernel(d.kernel, d.spirv, static_cast<uint32_t>(sizeof(PushHeader) + 4 * d.push.size()), d.specialization);
}

// The most workgroups one vkCmdDispatch can hold (make_chunk folds them into a 3-D grid).
uint64_t Executor::Impl::max_groups() const {
  const auto& count = ctx.info.max_workgroup_count;
  return std::min<uint64_t>(std::numeric_limits<uint32_t>::max(), uint64_t{count[0]} * count[1] * count[2]);
}

std::vector<Planned> Executor::Impl::plan_dispatches() {
  const auto& info = ctx.info;
  const uint64_t max_groups = this->max_groups();
  std::vector<Planned> planned;
  for (size_t n = 0; n < graph.nodes().size(); ++n) {
    const auto& node = graph.nodes()[n];
    std::vector<Shape> in_shapes, out_shapes;
    for (TensorId t : node.inputs) in_shapes.push_back(graph.shape(t));
    for (TensorId t : node.outputs) out_shapes.push_back(graph.shape(t));
    const NodeShapes view{node.inputs, node.outputs, in_shapes, out_shapes};
    std::vector<Dispatch> dispatches = node.op->dispatches(view, info);
    const double flops = node.op->flops(view) / double(dispatches.size());
    for (Dispatch& d : dispatches) {
      const Kernel& kernel = kernel_for(d);
      bool kinds_match = kernel.bindings == d.operands.size() && !kernel.sampled_image_mask;
      for (size_t b = 0; b < d.operands.size() && kinds_match; ++b)
        kinds_match = d.operands[b].uniform == bool((kernel.uniform_buffer_mask >> b) & 1);
      if (!kinds_match)
        throw Error("Internal error: kernel '" + d.kernel + "' has " + std::to_string(kernel.bindings) +
                    " bindings of other kinds than its op binds (" + std::to_string(d.operands.size()) + ").");

      // The most batch items one dispatch can take while every binding fits the device's range.
      uint64_t per_chunk = d.batches;
      for (const Operand& op : d.operands) {
        const auto& t = graph.tensors()[op.tensor];
        const uint64_t range = op.uniform ? info.max_uniform_buffer_range : info.max_storage_buffer_range;
        const uint64_t align = std::max<uint64_t>(op.uniform ? info.min_uniform_buffer_offset_alignment
                                                             : info.min_storage_buffer_offset_alignment, 4);
        const uint64_t stride = op.batch_stride * sizeof(float);
        const uint64_t need = op.batch_stride ? (op.extent ? op.extent : op.batch_stride) * sizeof(float)
                                              : element_count(t.shape) * sizeof(float);
        if (need + (op.batch_stride ? align : 0) > range)
          throw DeviceLimitError("The " + node.op->name() + " step needs " + mib(need) + " of tensor '" + t.name + "' " +
                                 (op.batch_stride ? "for one batch item" : "at once") + ", more than this device's " +
                                 (op.uniform ? "maxUniformBufferRange" : "maxStorageBufferRange") + " (" + mib(range) +
                                 "); use a smaller input.");
        if (op.batch_stride) per_chunk = std::min(per_chunk, 1 + (range - align - need) / stride);
      }
      if (d.groups_per_batch > max_groups)
        throw DeviceLimitError("The " + node.op->name() + " step needs " + std::to_string(d.groups_per_batch) +
                               " workgroups for one batch item, more than this device's maxComputeWorkGroupCount allows; "
                               "use a smaller input.");
      per_chunk = std::max<uint64_t>(1, std::min(per_chunk, max_groups / d.groups_per_batch));
      planned.push_back({n, std::move(d), &kernel, per_chunk, flops});
    }
  }
  return planned;
}

Step Executor::Impl::image_step(const std::string& name, const ExternalImage& image) {
  const TensorId id = graph.inputs().at(name);
  const Shape& shape = graph.shape(id);
  if (shape.size() != 4 || shape[0] != 1 || !(shape[1] == 1 || shape[1] == 3 || shape[1] == 4))
    throw Error("Input '" + name + "' comes from an image, so it must be (1, C, H, W) with C = 1, 3 or 4, but it is " +
                to_string(shape) + ".");
  const vk::Format format(static_cast<vk::Format>(image.format));
  if (format != vk::Format::eR8G8B8A8Unorm && format != vk::Format::eR8G8B8A8Srgb &&
      format != vk::Format::eR16G16B16A16Sfloat && format != vk::Format::eR32G32B32A32Sfloat)
    throw Error("The image for input '" + name + "' must be RGBA8 (unorm or sRGB), RGBA16F or RGBA32F.");
  if (image.layout != VK_IMAGE_LAYOUT_GENERAL && image.layout != VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL)
    throw Error("The image for input '" + name + "' must be in GENERAL or SHADER_READ_ONLY_OPTIMAL layout.");
  if (!image.image || image.width == 0 || image.height == 0)
    throw Error("The image for input '" + name + "' needs a handle, a width and a height.");
  for (int c = 0; c < 4; ++c)
    if (!(image.std[c] != 0)) throw Error("The image for input '" + name + "' has a std of 0 for channel " + std::to_string(c) + ".");

  // Filtered sampling where the format allows it (RGBA32F need not), else nearest.
  const bool filter = bool(ctx.physical.getFormatProperties(format).optimalTilingFeatures &
                           vk::FormatFeatureFlagBits::eSampledImageFilterLinear);
  vk::raii::Sampler& sampler = filter ? linear : nearest;
  if (!*sampler) {
    const auto f = filter ? vk::Filter::eLinear : vk::Filter::eNearest;
    sampler = vk::raii::Sampler(ctx.device, vk::SamplerCreateInfo({}, f, f, vk::SamplerMipmapMode::eNearest,
                                                                  vk::SamplerAddressMode::eClampToEdge,
                                                                  vk::SamplerAddressMode::eClampToEdge,
                                                                  vk::SamplerAddressMode::eClampToEdge));
  }
  views.emplace_back(ctx.device, vk::ImageViewCreateInfo({}, vk::Image(image.image), vk::ImageViewType::e2D, format, {},
                                                         {vk::ImageAspectFlagBits::eColor, 0, 1, 0, 1}));

  const uint32_t H = static_cast<uint32_t>(shape[2]), W = static_cast<uint32_t>(shape[3]);
  const uint32_t taps_x = std::clamp<uint32_t>((image.width + W - 1) / W, 1, 8);
  const uint32_t taps_y = std::clamp<uint32_t>((image.height + H - 1) / H, 1, 8);
  const uint64_t groups = ceil_div(uint64_t(W) * H, 256);
  Dispatch d{"image_to_tensor", image_to_tensor_spv, {{id}}, {W, H, u32(shape[1]), taps_x, taps_y}};
  for (float m : image.mean) d.push.push_back(bits(m));
  for (float sd : image.std) d.push.push_back(bits(1.f / sd));
  d.groups_per_batch = groups;
  const Kernel& kernel = kernel_for(d);
  if (groups > max_groups())
    throw DeviceLimitError("Input '" + name + "' is too large for one image conversion on this device.");
  Chunk chunk = make_chunk(d, kernel, 0, 1);
  chunk.image = vk::DescriptorImageInfo(*sampler, *views.back(), static_cast<vk::ImageLayout>(image.layout));
  return {"image_to_tensor", 0, {std::move(chunk)}, {}, {binding_of[id].buffer}};
}

void Executor::Impl::make_steps(const std::vector<Planned>& planned) {
  for (const auto& [name, image] : images) steps.push_back(image_step(name, image));
  for (size_t n = 0; n < planned.size(); ++n) {
    const auto& [index, d, kernel, per_chunk, flops] = planned[n];
    const auto& node = graph.nodes()[index];
    Step step{node.op->name(), flops, {}, {}, {}};
    for (uint64_t first = 0; first < d.batches; first += per_chunk)
      step.chunks.push_back(make_chunk(d, *kernel, first, std::min(per_chunk, d.batches - first)));
    for (TensorId t : node.inputs) step.reads.push_back(binding_of[t].buffer);
    for (TensorId t : node.outputs) step.writes.push_back(binding_of[t].buffer);
    steps.push_back(std::move(step));
  }
}

void Executor::Impl::record(bool timestamps) {
  uint32_t total_sets = 0, total_bindings = 0, total_images = 0;
  for (const auto& s : steps)
    for (const auto& c : s.chunks)
      ++total_sets, total_bindings += static_cast<uint32_t>(c.bindings.size()), total_images += c.image ? 1 : 0;
  if (total_sets == 0) throw Error("The graph has no nodes to run.");
  std::vector<vk::DescriptorPoolSize> sizes = {{vk::DescriptorType::eStorageBuffer, total_bindings},
                                               {vk::DescriptorType::eUniformBuffer, total_bindings}};
  if (total_images) sizes.emplace_back(vk::DescriptorType::eCombinedImageSampler, total_images);
  pool = vk::raii::DescriptorPool(ctx.device, {vk::DescriptorPoolCreateFlagBits::eFreeDescriptorSet, total_sets, sizes});
  std::vector<vk::DescriptorSetLayout> layouts;
  for (const auto& s : steps)
    for (const auto& c : s.chunks) layouts.push_back(*c.kernel->set_layout);
  sets = ctx.device.allocateDescriptorSets({*pool, layouts});
  std::vector<vk::WriteDescriptorSet> writes;
  size_t set_index = 0;
  for (const auto& s : steps)
    for (const auto& c : s.chunks) {
      const vk::DescriptorSet set = *sets[set_index++];
      if (c.image) writes.emplace_back(set, 0, 0, vk::DescriptorType::eCombinedImageSampler, *c.image);
      const uint32_t first = c.image ? 1 : 0;
      for (uint32_t b = 0; b < c.bindings.size(); ++b)  // one write per binding: kinds differ
        writes.emplace_back(set, first + b, 0, c.kernel->type(first + b), nullptr, c.bindings[b]);
    }
  ctx.device.updateDescriptorSets(writes, {});

  const uint32_t query_count = static_cast<uint32_t>(steps.size() + 1);
  if (timestamps) queries = vk::raii::QueryPool(ctx.device, {{}, vk::QueryType::eTimestamp, query_count});
  cmd = std::move(ctx.device.allocateCommandBuffers({*ctx.command_pool, vk::CommandBufferLevel::ePrimary, 1}).front());
  cmd.begin(vk::CommandBufferBeginInfo{});
  if (timestamps) cmd.resetQueryPool(*queries, 0, query_count);
  record_into(*cmd, timestamps, true);
  cmd.end();
  fence = vk::raii::Fence(ctx.device, vk::FenceCreateInfo{});
}

void Executor::Impl::record_into(vk::CommandBuffer c, bool timestamps, bool count) {
  using Stage = vk::PipelineStageFlagBits;
  using Access = vk::AccessFlagBits;
  // Whatever ran before (an earlier run of this forward pass, the application's rendering or
  // copies into an input) is finished and its writes visible before the first kernel.
  const vk::MemoryBarrier entry(Access::eMemoryWrite, Access::eShaderRead | Access::eShaderWrite);
  c.pipelineBarrier(Stage::eAllCommands, Stage::eComputeShader, {}, entry, {}, {});
  if (timestamps) c.writeTimestamp(Stage::eBottomOfPipe, *queries, 0);

  std::set<VkBuffer> written, read;  // since the last barrier
  size_t set_index = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& s = steps[i];
    bool hazard = false;
    for (VkBuffer b : s.reads) hazard |= written.count(b) > 0;                          // read after write
    for (VkBuffer b : s.writes) hazard |= written.count(b) > 0 || read.count(b) > 0;   // write after write/read
    if (hazard) {
      // This node touches memory an earlier node wrote (or, for a shared buffer, read).
      const vk::MemoryBarrier barrier(Access::eShaderWrite | Access::eShaderRead, Access::eShaderRead | Access::eShaderWrite);
      c.pipelineBarrier(Stage::eComputeShader, Stage::eComputeShader, {}, barrier, {}, {});
      written.clear();
      read.clear();
      if (count) ++plan.barriers;
    }
    for (const Chunk& ch : s.chunks) {
      c.bindPipeline(vk::PipelineBindPoint::eCompute, *ch.kernel->pipeline);
      c.bindDescriptorSets(vk::PipelineBindPoint::eCompute, *ch.kernel->layout, 0, *sets[set_index++], {});
      c.pushConstants<uint32_t>(*ch.kernel->layout, vk::ShaderStageFlagBits::eCompute, 0, ch.push);
      c.dispatch(ch.grid[0], ch.grid[1], ch.grid[2]);
      if (count) ++plan.dispatches;
    }
    read.insert(s.reads.begin(), s.reads.end());
    written.insert(s.writes.begin(), s.writes.end());
    if (timestamps) c.writeTimestamp(Stage::eBottomOfPipe, *queries, static_cast<uint32_t>(i + 1));
  }
  // Outputs are read by the host after the fence, or by whatever the application records next.
  const vk::MemoryBarrier exit(Access::eShaderWrite, Access::eHostRead | Access::eMemoryRead | Access::eMemoryWrite);
  c.pipelineBarrier(Stage::eComputeShader, Stage::eAllCommands | Stage::eHost, {}, exit, {}, {});
}

void Executor::Impl::wait_pending() {
  if (!pending) return;
  if (ctx.device.waitForFences(*fence, VK_TRUE, UINT64_MAX) != vk::Result::eSuccess)
    throw Error("Waiting for the GPU failed.");
  pending = false;
  ran = true;
}

Buffer* Executor::Impl::owned(const std::string& name, TensorId id, const char* what) const {
  Buffer* b = binding_of[id].owned;
  if (!b) throw Error(std::string(what) + " '" + name + "' lives in an application buffer; use that buffer directly.");
  return b;
}

Executor::Executor(Context& context, const Graph& graph, const ExecutorOptions& options)
    : impl_(std::make_unique<Impl>(context.impl(), graph, options)) {
  if (graph.outputs().empty()) throw Error("The graph has no outputs; mark at least one with Graph::output.");
  vulkan_call("preparing the graph", [&] {
    const auto planned = impl_->plan_dispatches();
    impl_->allocate();
    impl_->make_steps(planned);
    impl_->record(options.timestamps && context.device().timestamps);
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
  if (impl_->images.count(name)) throw Error("Input '" + name + "' is read from an application image at every run.");
  impl_->wait_pending();  // the GPU may still read the previous input
  impl_->owned(name, it->second, "Input")->write(tensor.data.data(), tensor.data.size() * sizeof(float));
}

void Executor::run() {
  submit({}, {});
  wait();
}

HostTensor Executor::output(const std::string& name) const {
  const auto it = impl_->graph.outputs().find(name);
  if (it == impl_->graph.outputs().end()) throw Error("The graph has no output called '" + name + "'.");
  if (impl_->pending) throw Error("Output '" + name + "' was read before waiting for the submitted forward pass.");
  if (!impl_->ran) throw Error("Output '" + name + "' was read before the graph ran.");
  HostTensor out{impl_->graph.shape(it->second), {}};
  out.data.resize(element_count(out.shape));
  impl_->owned(name, it->second, "Output")->read(out.data.data(), out.data.size() * sizeof(float));
  return out;
}

void Executor::fill_outputs(float value) {
  impl_->wait_pending();
  for (const auto& [name, id] : impl_->graph.outputs()) {
    if (!impl_->binding_of[id].owned) continue;  // the application's own buffer
    const std::vector<float> fill(element_count(impl_->graph.shape(id)), value);
    impl_->binding_of[id].owned->write(fill.data(), fill.size() * sizeof(float));
  }
}

void Executor::record(VkCommandBuffer command_buffer) const {
  if (!command_buffer) throw Error("Executor::record needs a command buffer in the recording state.");
  impl_->record_into(vk::CommandBuffer(command_buffer), false, false);
  impl_->ran = true;  // outputs may be read once the application's submission has finished
}

void Executor::submit(const std::vector<SemaphoreWait>& waits, const std::vector<SemaphoreSignal>& signals) {
  auto& ctx = impl_->ctx;
  impl_->wait_pending();  // vkattn's command buffer may be pending only once
  std::vector<vk::Semaphore> wait_handles, signal_handles;
  std::vector<vk::PipelineStageFlags> stages;
  std::vector<uint64_t> wait_values, signal_values;
  bool timeline = false;
  for (const auto& w : waits) {
    wait_handles.emplace_back(w.semaphore);
    stages.emplace_back(vk::PipelineStageFlags(w.stages));
    wait_values.push_back(w.value);
    timeline |= w.value != 0;
  }
  for (const auto& s : signals) {
    signal_handles.emplace_back(s.semaphore);
    signal_values.push_back(s.value);
    timeline |= s.value != 0;
  }
  const vk::CommandBuffer handle = *impl_->cmd;
  vk::SubmitInfo info(wait_handles, stages, handle, signal_handles);
  // Values matter only for timeline semaphores (binary ones ignore them), and the struct is
  // chained only when some value is set, so binary-only submits work on Vulkan 1.1 devices.
  const vk::TimelineSemaphoreSubmitInfo values(wait_values, signal_values);
  if (timeline) info.pNext = &values;
  vulkan_call("submitting the graph", [&] {
    ctx.device.resetFences(*impl_->fence);
    ctx.queue.submit(info, *impl_->fence);
  });
  impl_->pending = true;
}

void Executor::wait() {
  vulkan_call("waiting for the graph", [&] { impl_->wait_pending(); });
}

const MemoryPlan& Executor::memory_plan() const { return impl_->plan; }

std::vector<NodeTiming> Executor::timings() const {
  std::vector<NodeTiming> out;
  if (!*impl_->queries || !impl_->ran) return out;
  const auto& steps = impl_->steps;
  const uint32_t count = static_cast<uint32_t>(steps.size() + 1);
  auto [result, stamps] = impl_->queries.getResults<uint64_t>(
      0, count, count * sizeof(uint64_t), sizeof(uint64_t), vk::QueryResultFlagBits::e64 | vk::QueryResultFlagBits::eWait);
  if (result != vk::Result::eSuccess) return out;
  const double period = impl_->ctx.info.timestamp_period_ns;
  for (size_t i = 0; i < steps.size(); ++i)
    out.push_back({steps[i].name, (stamps[i + 1] - stamps[i]) * period * 1e-6, steps[i].flops});
  return out;
}

}  // namespace vkattn
