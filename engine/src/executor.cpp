// The executor owns what a plan needs on the device: buffers for tensors, image views and
// samplers, the recorder's descriptor sets and the submission. Planning, recording and
// submitting live in plan.cpp, recorder.cpp and submission.cpp.
#include "vkattn/executor.h"

#include <map>
#include <optional>

#include "buffer.h"
#include "context_impl.h"
#include "fp16_storage.h"
#include "half_float.h"
#include "ops/image_input/image_input.h"
#include "ops/image_output/image_output.h"
#include "plan.h"
#include "recorder.h"
#include "submission.h"

namespace vkattn {

const char* to_string(Precision precision) { return precision == Precision::fp16 ? "fp16" : "fp32"; }

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::fp32;
  if (name == "fp16") return Precision::fp16;
  throw Error("Precision must be 'fp32' or 'fp16', not '" + name + "'.");
}

struct Executor::Impl {
  Context::Impl& ctx;
  Graph graph;
  std::map<std::string, ExternalBuffer> external;
  std::map<std::string, ExternalImage> images;
  std::map<std::string, ImageOutput> image_outputs;
  Plan plan;
  std::vector<std::unique_ptr<Buffer>> buffers;
  std::vector<Binding> binding_of;  // per tensor
  std::vector<Buffer*> owned_of;    // per tensor; null for an application buffer
  std::vector<vk::raii::ImageView> views;
  vk::raii::Sampler linear{nullptr}, nearest{nullptr};
  Copies copies;  // between application buffers and vkattn's copies of them
  std::optional<Recorder> recorder;
  std::optional<Submission> submission;
  bool ran = false;

  Impl(Context::Impl& c, const Graph& g, const ExecutorOptions& o)
      : ctx(c), graph(o.precision == Precision::fp16 ? with_fp16_storage(g) : g), external(o.external),
        images(o.images), image_outputs(o.image_outputs), precision(o.precision) {}
  Precision precision;
  void refuse_fp16_if_unsupported() const;
  std::vector<HeadNode> image_nodes() const;
  std::vector<TailNode> image_output_nodes() const;
  void allocate();
  bool in_place(TensorId id, const ExternalBuffer& ext) const;
  std::map<std::string, vk::DescriptorImageInfo> image_views();
  std::map<std::string, vk::DescriptorImageInfo> image_output_views();
  Buffer* owned(const std::string& name, TensorId id, const char* what) const;
};

// Precision::fp16 needs 16-bit storage buffers, and 16-bit texel views for the kernels that read
// tensors as texels (both in every Vulkan 1.1 driver we know, but neither is required).
void Executor::Impl::refuse_fp16_if_unsupported() const {
  if (!ctx.info.storage_buffer_16bit)
    throw Error("Device '" + ctx.info.name + "' " +
                (ctx.adopted ? "was not created with storageBuffer16BitAccess enabled (see AdoptedDevice)"
                             : "lacks storageBuffer16BitAccess") +
                ", so it cannot store tensors in 16 bits; use fp32 precision.");
  for (const bool vec4 : {false, true}) {
    const vk::Format format = texel_format(vec4, 2);
    if (!(ctx.physical.getFormatProperties(format).bufferFeatures & vk::FormatFeatureFlagBits::eUniformTexelBuffer))
      throw Error("Device '" + ctx.info.name + "' cannot read " + vk::to_string(format) +
                  " texel buffers, so it cannot store tensors in 16 bits; use fp32 precision.");
  }
}

// Inputs that come from application images get a conversion op at the head of the graph.
std::vector<HeadNode> Executor::Impl::image_nodes() const {
  std::vector<HeadNode> head;
  for (const auto& [name, image] : images) {
    const auto in = graph.inputs().find(name);
    if (in == graph.inputs().end())
      throw Error("ExecutorOptions::images names '" + name + "', which is not an input of the graph.");
    if (external.count(name)) throw Error("Input '" + name + "' is given both an application buffer and an image.");
    head.push_back({image_input(name, graph.shape(in->second), image), in->second, name});
  }
  return head;
}

// Outputs that go into application images get a write op after the graph's nodes.
std::vector<TailNode> Executor::Impl::image_output_nodes() const {
  std::vector<TailNode> tail;
  std::map<VkImage, std::string> taken;  // each image is written by one output and read by no input
  for (const auto& [name, image] : images) taken[image.image] = "input '" + name + "'";
  for (const auto& [name, image] : image_outputs) {
    if (const auto [at, fresh] = taken.emplace(image.image, "output '" + name + "'"); !fresh && image.image)
      throw Error("The image for output '" + name + "' is also the image of " + at->second +
                  "; give each image output an image of its own.");
    const auto out = graph.outputs().find(name);
    if (out == graph.outputs().end())
      throw Error("ExecutorOptions::image_outputs names '" + name + "', which is not an output of the graph.");
    tail.push_back({image_output(name, graph.shape(out->second), image), out->second, name});
    // The device must store to the view's format (optimal tiling: what a storage image an
    // application samples has).
    const auto view = static_cast<vk::Format>(image_output_view_format(image.format));
    if (!(ctx.physical.getFormatProperties(view).optimalTilingFeatures & vk::FormatFeatureFlagBits::eStorageImage))
      throw Error("This device cannot store to " + vk::to_string(view) + " images from a shader, so output '" + name +
                  "' cannot be written into that image; use another of ImageOutput's formats.");
  }
  return tail;
}

// Whether kernels can bind an application buffer itself: yes unless one reads the tensor as
// texels and the buffer lacks that usage, or one indexes it in vec4s and the offset is not a
// multiple of 16.
bool Executor::Impl::in_place(TensorId id, const ExternalBuffer& ext) const {
  for (const Step& s : plan.steps)
    for (const Operand& o : s.dispatch.operands)
      if (o.tensor == id && ((is_texels(o.as) && !(ext.usage & VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT)) ||
                             (needs_16_byte_start(o.as) && ext.offset % 16)))
        return false;
  return true;
}

void Executor::Impl::allocate() {
  const auto& tensors = graph.tensors();
  binding_of.assign(tensors.size(), {});
  owned_of.assign(tensors.size(), nullptr);
  // Application buffers: each names a graph input or output and must hold it.
  std::map<TensorId, ExternalBuffer> outside;
  for (const auto& [name, ext] : external) {
    const auto in = graph.inputs().find(name), out = graph.outputs().find(name);
    if (in == graph.inputs().end() && out == graph.outputs().end())
      throw Error("ExecutorOptions::external names '" + name + "', which is neither an input nor an output of the graph.");
    const TensorId id = in != graph.inputs().end() ? in->second : out->second;
    const uint64_t bytes = element_count(tensors[id].shape) * sizeof(float);
    if (!ext.buffer) throw Error("The application buffer for '" + name + "' has no VkBuffer handle.");
    if (ext.offset % 4 != 0)
      throw Error("The application buffer for '" + name + "' starts at offset " + std::to_string(ext.offset) +
                  ", which is not a multiple of 4 (tensors are float32).");
    if (ext.size < bytes)
      throw Error("The application buffer for '" + name + "' must hold at least " + std::to_string(bytes) +
                  " bytes, but it has " + std::to_string(ext.size) + ".");
    outside[id] = ext;
  }
  auto own = [&](TensorId id, uint64_t bytes, MemoryUse use, const std::string& what) -> Buffer* {
    buffers.push_back(std::make_unique<Buffer>(ctx, bytes, use, what));
    binding_of[id] = {buffers.back()->handle(), 0};
    return owned_of[id] = buffers.back().get();
  };
  std::vector<Buffer*> shared;
  for (size_t s = 0; s < plan.slot_bytes.size(); ++s)
    shared.push_back(buffers.emplace_back(std::make_unique<Buffer>(ctx, plan.slot_bytes[s], MemoryUse::Device,
                                                                   "intermediate buffer " + std::to_string(s))).get());
  for (TensorId id = 0; id < tensors.size(); ++id) {
    const auto& t = tensors[id];
    const uint64_t bytes = element_count(t.shape) * plan.float_bytes[id];
    const Home home = plan.home[id];
    if (auto it = outside.find(id); it != outside.end()) {
      const ExternalBuffer& ext = it->second;
      if (in_place(id, ext)) {
        binding_of[id] = {ext.buffer, ext.offset};
        continue;
      }
      // Some kernel reads it as texels or in vec4s and the application's buffer cannot be bound so: a copy.
      const bool input = home.kind == Home::Input;
      const auto need = input ? VK_BUFFER_USAGE_TRANSFER_SRC_BIT : VK_BUFFER_USAGE_TRANSFER_DST_BIT;
      if (!(ext.usage & need))
        throw Error("The application buffer for '" + t.name + "' cannot be bound in place here (its kernels read it " +
                    "as texels or in 16-byte units): create it with VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT at an " +
                    "offset that is a multiple of 16 to use it in place, or with " +
                    (input ? "VK_BUFFER_USAGE_TRANSFER_SRC_BIT" : "VK_BUFFER_USAGE_TRANSFER_DST_BIT") +
                    " for vkattn to copy it, and say so in ExternalBuffer::usage.");
      buffers.push_back(std::make_unique<Buffer>(ctx, bytes, MemoryUse::Device, "copy of '" + t.name + "'"));
      const vk::Buffer mine = buffers.back()->handle(), theirs = ext.buffer;
      binding_of[id] = {mine, 0};
      if (input) copies.before.push_back({theirs, mine, vk::BufferCopy(ext.offset, 0, bytes)});
      else copies.after.push_back({mine, theirs, vk::BufferCopy(0, ext.offset, bytes)});
    } else if (home.kind == Home::Unused) {
      continue;
    } else if (home.kind == Home::Shared) {
      binding_of[id] = {shared[home.slot]->handle(), 0};
      owned_of[id] = shared[home.slot];
    } else if (home.kind == Home::Weight) {
      plan.memory.weight_bytes += bytes;
      Buffer* weight = own(id, bytes, MemoryUse::Device, "weight '" + t.name + "'");
      if (plan.float_bytes[id] == 4) {
        weight->write(t.value->data.data(), bytes);
      } else {
        std::vector<uint16_t> half(t.value->data.size());
        for (size_t i = 0; i < half.size(); ++i) half[i] = float_to_half(t.value->data[i]);
        weight->write(half.data(), bytes);
      }
    } else {
      // Inputs the host writes and outputs it reads stay mapped; an image's input is the GPU's alone.
      plan.memory.io_bytes += bytes;
      const bool from_image = home.kind == Home::Input && images.count(t.name);
      own(id, bytes, from_image ? MemoryUse::Device : MemoryUse::Host,
          (home.kind == Home::Input ? "input '" : "output '") + t.name + "'");
    }
  }
}

// A view of each application image and a sampler: filtered where the format allows it (RGBA32F need not).
std::map<std::string, vk::DescriptorImageInfo> Executor::Impl::image_views() {
  std::map<std::string, vk::DescriptorImageInfo> out;
  for (const auto& [name, image] : images) {
    const vk::Format format(static_cast<vk::Format>(image.format));
    const bool filter = bool(ctx.physical.getFormatProperties(format).optimalTilingFeatures &
                             vk::FormatFeatureFlagBits::eSampledImageFilterLinear);
    vk::raii::Sampler& sampler = filter ? linear : nearest;
    if (!*sampler) {
      const auto f = filter ? vk::Filter::eLinear : vk::Filter::eNearest;
      const auto edge = vk::SamplerAddressMode::eClampToEdge;
      sampler = vk::raii::Sampler(ctx.device, vk::SamplerCreateInfo({}, f, f, vk::SamplerMipmapMode::eNearest, edge, edge, edge));
    }
    views.emplace_back(ctx.device, vk::ImageViewCreateInfo({}, vk::Image(image.image), vk::ImageViewType::e2D, format,
                                                           {}, {vk::ImageAspectFlagBits::eColor, 0, 1, 0, 1}));
    out[name] = vk::DescriptorImageInfo(*sampler, *views.back(), static_cast<vk::ImageLayout>(image.layout));
  }
  return out;
}

// A 2-D array view of each output image's level 0 and its layers, in the format the kernel stores.
std::map<std::string, vk::DescriptorImageInfo> Executor::Impl::image_output_views() {
  std::map<std::string, vk::DescriptorImageInfo> out;
  for (const auto& [name, image] : image_outputs) {
    const auto format = static_cast<vk::Format>(image_output_view_format(image.format));
    vk::ImageViewCreateInfo info({}, vk::Image(image.image), vk::ImageViewType::e2DArray, format, {},
                                 {vk::ImageAspectFlagBits::eColor, 0, 1, 0, image.layers});
    // Only storage: an sRGB image's UNORM view could not be sampled or attached with its usages.
    const vk::ImageViewUsageCreateInfo usage(vk::ImageUsageFlagBits::eStorage);
    info.pNext = &usage;
    views.emplace_back(ctx.device, info);
    out[name] = vk::DescriptorImageInfo(nullptr, *views.back(), vk::ImageLayout::eGeneral);
  }
  return out;
}

Buffer* Executor::Impl::owned(const std::string& name, TensorId id, const char* what) const {
  Buffer* b = owned_of[id];
  if (!b) throw Error(std::string(what) + " '" + name + "' lives in an application buffer; use that buffer directly.");
  return b;
}

Executor::Executor(Context& context, const Graph& graph, const ExecutorOptions& options)
    : impl_(std::make_unique<Impl>(context.impl(), graph, options)) {
  auto& impl = *impl_;
  impl.ctx.refuse_if_unusable();  // before the lock: in a forked child a parent's thread may hold it
  std::scoped_lock lock(impl.ctx.mutex);  // the Context's command pool, queue and pipelines
  if (impl.precision == Precision::fp16) impl.refuse_fp16_if_unsupported();
  impl.plan = make_plan(impl.graph, impl.ctx.info, impl.precision, impl.image_nodes(), impl.image_output_nodes());
  impl.ctx.guarded("preparing the graph", [&] {
    impl.allocate();
    impl.recorder.emplace(impl.ctx, impl.graph, impl.plan, impl.binding_of, impl.image_views(),
                          impl.image_output_views(), impl.copies);
    impl.submission.emplace(impl.ctx, *impl.recorder, options.timestamps && context.device().timestamps);
  });
}

Executor::~Executor() {
  if (!impl_) return;  // moved from
  // In a forked child the device is the parent's: destroying it here could hang in the driver.
  if (impl_->ctx.forked()) {
    (void)impl_.release();
    return;
  }
  std::scoped_lock lock(impl_->ctx.mutex);  // buffers and command buffers go back to the Context
  impl_.reset();
}
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
  impl_->ctx.guarded("writing input '" + name + "'", [&] {
    impl_->submission->wait();  // the GPU may still read the previous input
    impl_->owned(name, it->second, "Input")->write(tensor.data.data(), tensor.data.size() * sizeof(float));
  });
}

void Executor::run() {
  submit({}, {});
  wait();
}

HostTensor Executor::output(const std::string& name) const {
  const auto it = impl_->graph.outputs().find(name);
  if (it == impl_->graph.outputs().end()) throw Error("The graph has no output called '" + name + "'.");
  HostTensor out{impl_->graph.shape(it->second), {}};
  out.data.resize(element_count(out.shape));
  read_output(name, 0, out.data.size(), out.data.data());
  return out;
}

void Executor::read_output(const std::string& name, uint64_t first, uint64_t count, float* dst) const {
  const auto it = impl_->graph.outputs().find(name);
  if (it == impl_->graph.outputs().end()) throw Error("The graph has no output called '" + name + "'.");
  if (impl_->submission->pending())
    throw Error("Output '" + name + "' was read before waiting for the submitted forward pass.");
  if (!impl_->ran) throw Error("Output '" + name + "' was read before the graph ran.");
  impl_->ctx.refuse_if_unusable();  // what a lost device left in memory is undefined
  const uint64_t size = element_count(impl_->graph.shape(it->second));
  if (first > size || count > size - first)
    throw Error("Output '" + name + "' has " + std::to_string(size) + " elements; elements [" + std::to_string(first) +
                ", " + std::to_string(first + count) + ") do not exist.");
  impl_->owned(name, it->second, "Output")->read(dst, first * sizeof(float), count * sizeof(float));
}

void Executor::fill_outputs(float value) {
  impl_->ctx.guarded("filling the outputs", [&] {
    impl_->submission->wait();
    for (const auto& [name, id] : impl_->graph.outputs()) {
      if (!impl_->owned_of[id]) continue;  // the application's own buffer
      const std::vector<float> fill(element_count(impl_->graph.shape(id)), value);
      impl_->owned_of[id]->write(fill.data(), fill.size() * sizeof(float));
    }
  });
}

void Executor::record(VkCommandBuffer command_buffer) const {
  if (!command_buffer) throw Error("Executor::record needs a command buffer in the recording state.");
  impl_->ctx.refuse_if_unusable();
  impl_->recorder->record(vk::CommandBuffer(command_buffer), nullptr);
  impl_->ran = true;  // outputs may be read once the application's submission has finished
}

void Executor::submit(const std::vector<SemaphoreWait>& waits, const std::vector<SemaphoreSignal>& signals) {
  impl_->ctx.guarded("submitting the graph", [&] { impl_->submission->submit(waits, signals); });
  impl_->ran = true;  // outputs are readable after wait()
}

void Executor::wait(const std::function<void()>& while_waiting) {
  impl_->ctx.guarded("waiting for the graph", [&] { impl_->submission->wait(while_waiting); });
}

const MemoryPlan& Executor::memory_plan() const { return impl_->plan.memory; }

std::vector<std::string> Executor::kernels() const {
  std::vector<std::string> out;
  for (const Step& s : impl_->plan.steps) out.push_back(s.name);
  return out;
}

std::vector<NodeTiming> Executor::timings() const {
  std::vector<NodeTiming> out;
  const std::vector<StepTime> times = impl_->submission->step_times();
  const auto& steps = impl_->plan.steps;
  for (size_t i = 0; i < times.size(); ++i) {
    const Step& s = steps[i];
    if (out.empty() || out.back().node != s.node) out.push_back({s.node, s.name});
    NodeTiming& t = out.back();
    t.gpu_ms += times[i].dispatch_ms;
    t.barrier_ms += times[i].barrier_ms;
    t.flops += s.flops;
    t.bytes += s.bytes;
    t.dispatches += static_cast<uint32_t>(ceil_div(s.dispatch.batches, s.per_chunk));
  }
  return out;
}

}  // namespace vkattn
