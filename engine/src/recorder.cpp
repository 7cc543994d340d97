#include "recorder.h"

#include <cstring>

namespace vkattn {

vk::Format texel_format(bool vec4, uint32_t float_bytes) {
  if (float_bytes == 2) return vec4 ? vk::Format::eR16G16B16A16Sfloat : vk::Format::eR16Sfloat;
  return vec4 ? vk::Format::eR32G32B32A32Sfloat : vk::Format::eR32Sfloat;
}

Recorder::Recorder(Context::Impl& ctx, const Graph& graph, const Plan& plan, const std::vector<Binding>& binding_of,
                   const std::map<std::string, vk::DescriptorImageInfo>& images,
                   const std::map<std::string, vk::DescriptorImageInfo>& image_outputs, Copies copies)
    : ctx_(ctx), copies_(std::move(copies)) {
  for (const Step& step : plan.steps) {
    const Dispatch& d = step.dispatch;
    const Kernel& kernel =
        ctx.kernel(d.kernel, d.spirv, static_cast<uint32_t>(sizeof(PushHeader) + 4 * d.push.size()), d.specialization);
    RecordedStep recorded{step.barrier_before, {}};
    for (uint64_t first = 0; first < d.batches; first += step.per_chunk) {
      recorded.chunks.push_back(
          make_chunk(graph, plan, binding_of, d, kernel, first, std::min(step.per_chunk, d.batches - first)));
      if (step.image_binding == ImageBinding::sampled) recorded.chunks.back().image = images.at(step.image);
      if (step.image_binding == ImageBinding::storage) recorded.chunks.back().image = image_outputs.at(step.image);
    }
    steps_.push_back(std::move(recorded));
  }
  write_descriptors();
}

Recorder::Chunk Recorder::make_chunk(const Graph& graph, const Plan& plan, const std::vector<Binding>& binding_of,
                                     const Dispatch& d, const Kernel& kernel, uint64_t first, uint64_t count) const {
  const auto& info = ctx_.info;
  Chunk chunk{&kernel, std::nullopt, {}, {}, {}, {}, {}};
  PushHeader header{};
  if (d.operands.size() > PushHeader::kMaxOperands)
    throw Error("Internal error: kernel '" + d.kernel + "' binds more tensors than the push header describes.");
  for (size_t i = 0; i < d.operands.size(); ++i) {
    const Operand& op = d.operands[i];
    const Binding& where = binding_of[op.tensor];
    const uint32_t float_bytes = plan.float_bytes[op.tensor];
    const uint64_t bytes = element_count(graph.shape(op.tensor)) * float_bytes;
    const uint64_t align = bind_limits(op.as, info, float_bytes).align;
    // The bound range: from the first item's start (aligned down) to the last item's window end.
    const uint64_t start = where.offset + (op.offset + first * op.batch_stride) * float_bytes;
    const uint64_t window = op.extent ? op.extent : op.batch_stride;
    const uint64_t end =
        where.offset +
        (window ? std::min(bytes, (op.offset + (first + count - 1) * op.batch_stride + window) * float_bytes) : bytes);
    const uint64_t aligned = start - start % align;
    if (needs_16_byte_start(op.as) && (start - aligned) % (4 * float_bytes) != 0)
      throw Error("Kernel '" + d.kernel + "' indexes tensor '" + graph.tensors()[op.tensor].name + "' in " +
                  std::to_string(4 * float_bytes) + "-byte units, but its data starts at byte " + std::to_string(start) +
                  ", not a multiple of " + std::to_string(4 * float_bytes) +
                  " (an application buffer's offset must then be one).");
    header.base[i] = static_cast<uint32_t>((start - aligned) / float_bytes);
    chunk.bindings.emplace_back(where.buffer, aligned, end - aligned);
    chunk.kinds.push_back(op.as);
    chunk.float_bytes.push_back(float_bytes);
  }
  const uint64_t groups = count * d.groups_per_batch;
  header.batches = static_cast<uint32_t>(count);
  header.groups = static_cast<uint32_t>(groups);
  header.groups_per_batch = static_cast<uint32_t>(d.groups_per_batch);
  chunk.push.resize(sizeof(PushHeader) / 4);
  std::memcpy(chunk.push.data(), &header, sizeof header);
  chunk.push.insert(chunk.push.end(), d.push.begin(), d.push.end());
  // Groups folded into a 3-D grid; the plan checked they fit.
  const uint64_t x = std::min<uint64_t>(groups, info.max_workgroup_count[0]);
  const uint64_t y = std::min<uint64_t>(ceil_div(groups, x), info.max_workgroup_count[1]);
  chunk.grid[0] = static_cast<uint32_t>(x);
  chunk.grid[1] = static_cast<uint32_t>(y);
  chunk.grid[2] = static_cast<uint32_t>(ceil_div(groups, x * y));
  return chunk;
}

void Recorder::write_descriptors() {
  uint32_t sets = 0, buffers = 0, sampled = 0, storage = 0;
  for (const auto& s : steps_)
    for (const auto& c : s.chunks) {
      ++sets, buffers += static_cast<uint32_t>(c.bindings.size());
      if (c.image) ++(c.kernel->type(0) == vk::DescriptorType::eStorageImage ? storage : sampled);
    }
  std::vector<vk::DescriptorPoolSize> sizes = {{vk::DescriptorType::eStorageBuffer, buffers},
                                               {vk::DescriptorType::eUniformTexelBuffer, buffers}};
  if (sampled) sizes.emplace_back(vk::DescriptorType::eCombinedImageSampler, sampled);
  if (storage) sizes.emplace_back(vk::DescriptorType::eStorageImage, storage);
  pool_ = vk::raii::DescriptorPool(ctx_.device, {vk::DescriptorPoolCreateFlagBits::eFreeDescriptorSet, sets, sizes});
  std::vector<vk::DescriptorSetLayout> layouts;
  for (const auto& s : steps_)
    for (const auto& c : s.chunks) layouts.push_back(*c.kernel->set_layout);
  sets_ = ctx_.device.allocateDescriptorSets({*pool_, layouts});
  std::vector<vk::WriteDescriptorSet> writes;
  std::vector<vk::BufferView> texel_views;  // the writes point into it: no reallocation
  texel_views.reserve(buffers);
  size_t index = 0;
  for (const auto& s : steps_)
    for (const auto& c : s.chunks) {
      const vk::DescriptorSet set = *sets_[index++];
      if (c.image) writes.emplace_back(set, 0, 0, c.kernel->type(0), *c.image);
      const uint32_t first = c.image ? 1 : 0;
      for (uint32_t b = 0; b < c.bindings.size(); ++b) {  // one write per binding: kinds differ
        const vk::DescriptorType type = c.kernel->type(first + b);
        if (type == vk::DescriptorType::eUniformTexelBuffer) {
          const vk::DescriptorBufferInfo& r = c.bindings[b];
          const bool vec4 = c.kinds[b] == BindAs::Vec4Texels;
          // Whole texels only: a tensor's bytes past its last full texel are never read as one.
          const uint64_t texel = (vec4 ? 4 : 1) * c.float_bytes[b];
          views_.emplace_back(ctx_.device, vk::BufferViewCreateInfo({}, r.buffer, texel_format(vec4, c.float_bytes[b]),
                                                                    r.offset, r.range - r.range % texel));
          texel_views.push_back(*views_.back());
          writes.emplace_back(set, first + b, 0, type, nullptr, nullptr, texel_views.back());
        } else {
          writes.emplace_back(set, first + b, 0, type, nullptr, c.bindings[b]);
        }
      }
    }
  ctx_.device.updateDescriptorSets(writes, {});
}

void Recorder::record(vk::CommandBuffer c, const vk::raii::QueryPool* queries) const {
  using Stage = vk::PipelineStageFlagBits;
  using Access = vk::AccessFlagBits;
  // Whatever ran before (an earlier run of this forward pass, the application's rendering or
  // copies into an input) is finished and its writes visible before the first kernel.
  const vk::MemoryBarrier entry(Access::eMemoryWrite | Access::eMemoryRead,
                                Access::eShaderRead | Access::eShaderWrite | Access::eTransferRead | Access::eTransferWrite);
  c.pipelineBarrier(Stage::eAllCommands, Stage::eComputeShader | Stage::eTransfer, {}, entry, {}, {});
  if (!copies_.before.empty()) {  // application inputs into vkattn's copies of them
    for (const BufferCopy& b : copies_.before) c.copyBuffer(b.from, b.to, b.region);
    const vk::MemoryBarrier copied(Access::eTransferWrite, Access::eShaderRead | Access::eShaderWrite);
    c.pipelineBarrier(Stage::eTransfer, Stage::eComputeShader, {}, copied, {}, {});
  }
  // Timestamps (Submission::step_times): 0 before the first step, then 2i + 1 after step i's
  // barrier and 2i + 2 after its dispatches.
  if (queries) c.writeTimestamp(Stage::eBottomOfPipe, **queries, 0);
  size_t set_index = 0;
  for (size_t i = 0; i < steps_.size(); ++i) {
    const RecordedStep& s = steps_[i];
    if (s.barrier_before) {
      const vk::MemoryBarrier barrier(Access::eShaderWrite | Access::eShaderRead, Access::eShaderRead | Access::eShaderWrite);
      c.pipelineBarrier(Stage::eComputeShader, Stage::eComputeShader, {}, barrier, {}, {});
    }
    if (queries) c.writeTimestamp(Stage::eBottomOfPipe, **queries, static_cast<uint32_t>(2 * i + 1));
    for (const Chunk& ch : s.chunks) {
      c.bindPipeline(vk::PipelineBindPoint::eCompute, *ch.kernel->pipeline);
      c.bindDescriptorSets(vk::PipelineBindPoint::eCompute, *ch.kernel->layout, 0, *sets_[set_index++], {});
      c.pushConstants<uint32_t>(*ch.kernel->layout, vk::ShaderStageFlagBits::eCompute, 0, ch.push);
      c.dispatch(ch.grid[0], ch.grid[1], ch.grid[2]);
    }
    if (queries) c.writeTimestamp(Stage::eBottomOfPipe, **queries, static_cast<uint32_t>(2 * i + 2));
  }
  if (!copies_.after.empty()) {  // vkattn's copies of application outputs out to them
    const vk::MemoryBarrier written(Access::eShaderWrite, Access::eTransferRead);
    c.pipelineBarrier(Stage::eComputeShader, Stage::eTransfer, {}, written, {}, {});
    for (const BufferCopy& b : copies_.after) c.copyBuffer(b.from, b.to, b.region);
  }
  // Outputs are read by the host after the fence, or by whatever the application records next.
  const vk::MemoryBarrier exit(Access::eShaderWrite | Access::eTransferWrite,
                               Access::eHostRead | Access::eMemoryRead | Access::eMemoryWrite);
  c.pipelineBarrier(Stage::eComputeShader | Stage::eTransfer, Stage::eAllCommands | Stage::eHost, {}, exit, {}, {});
}

}  // namespace vkattn
