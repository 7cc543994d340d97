// Records a plan: binds each dispatch's tensors to memory (descriptor sets, one per batch chunk,
// written once) and records the dispatches, with the plan's barriers, into any command buffer.
#pragma once
#include <map>
#include <optional>
#include <vector>
#include <vulkan/vulkan_raii.hpp>

#include "context_impl.h"
#include "plan.h"

namespace vkattn {

// Where a tensor lives: one of vkattn's buffers or a range of an application's.
struct Binding {
  vk::Buffer buffer;
  uint64_t offset = 0;
};

// A copy between an application buffer and vkattn's copy of it, recorded with every forward pass.
struct BufferCopy {
  vk::Buffer from, to;
  vk::BufferCopy region;
};
// The format of a texel-buffer view of floats of that width, one or four to a texel.
vk::Format texel_format(bool vec4, uint32_t float_bytes);

struct Copies {
  std::vector<BufferCopy> before, after;  // inputs in before the first kernel, outputs out after the last
};

class Recorder {
 public:
  // images: the view and sampler of every input that comes from an application image;
  // image_outputs: the view of every output that is also written into one.
  Recorder(Context::Impl& ctx, const Graph& graph, const Plan& plan, const std::vector<Binding>& binding_of,
           const std::map<std::string, vk::DescriptorImageInfo>& images,
           const std::map<std::string, vk::DescriptorImageInfo>& image_outputs = {}, Copies copies = {});

  // The whole forward pass. With `queries`, a timestamp before the first step and after each one.
  void record(vk::CommandBuffer c, const vk::raii::QueryPool* queries) const;
  size_t steps() const { return steps_.size(); }

 private:
  // One vkCmdDispatch: a step's batch chunk with its pipeline, descriptor set and push constants.
  struct Chunk {
    const Kernel* kernel;
    std::optional<vk::DescriptorImageInfo> image;  // binding 0 when set; buffers follow it
    std::vector<vk::DescriptorBufferInfo> bindings;
    std::vector<BindAs> kinds;  // how each binding is read
    std::vector<uint32_t> float_bytes;  // and the width of its floats: 4, or 2 (float16)
    std::vector<uint32_t> push;  // header followed by the op's fields
    uint32_t grid[3];
  };
  struct RecordedStep {
    bool barrier_before;
    std::vector<Chunk> chunks;
  };
  Chunk make_chunk(const Graph& graph, const Plan& plan, const std::vector<Binding>& binding_of, const Dispatch& d,
                   const Kernel& kernel, uint64_t first, uint64_t count) const;
  void write_descriptors();

  Context::Impl& ctx_;
  std::vector<RecordedStep> steps_;
  vk::raii::DescriptorPool pool_{nullptr};
  std::vector<vk::raii::DescriptorSet> sets_;
  std::vector<vk::raii::BufferView> views_;  // the views behind the texel-buffer bindings
  Copies copies_;
};

}  // namespace vkattn
