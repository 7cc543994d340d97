#include "vkattn/fma_peak.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "buffer.h"
#include "context_impl.h"
#include "fma_peak.spv.h"
#include "vkattn/error.h"

namespace vkattn {
namespace {

// Must match shaders/fma_peak.comp.
constexpr uint32_t kChains = 3, kInner = 32, kGroupSize = 64;
struct Push {
  uint32_t iterations;
  float scale, step;
};
// Enough lanes to fill a large GPU; a CPU driver runs them in turn.
constexpr uint32_t kGroups = 4096;
constexpr uint64_t kLanes = uint64_t{kGroups} * kGroupSize;
// The step is a power of two and the chains stay below 2^12 (see kMaxIterations), so every
// value a lane computes with scale 1 is exact in float32.
constexpr float kStep = 1.0f / 1024;
constexpr uint32_t kMaxIterations = 1u << 16;  // iterations * kInner * kStep <= 2048
constexpr double kTargetMs = 50;

class PeakRun {
 public:
  explicit PeakRun(Context::Impl& ctx)
      : ctx_(ctx),
        kernel_(ctx.kernel("fma_peak", fma_peak_spv, sizeof(Push))),
        sums_(ctx, kLanes * sizeof(float), MemoryUse::Host, "the multiply-add peak's sums") {
    const vk::DescriptorPoolSize size(vk::DescriptorType::eStorageBuffer, 1);
    pool_ = vk::raii::DescriptorPool(ctx.device, {vk::DescriptorPoolCreateFlagBits::eFreeDescriptorSet, 1, size});
    set_ = std::move(ctx.device.allocateDescriptorSets({*pool_, *kernel_.set_layout}).front());
    const vk::DescriptorBufferInfo range(sums_.handle(), 0, VK_WHOLE_SIZE);
    ctx.device.updateDescriptorSets(vk::WriteDescriptorSet(*set_, 0, 0, vk::DescriptorType::eStorageBuffer, {}, range), {});
    fence_ = vk::raii::Fence(ctx.device, vk::FenceCreateInfo{});
  }

  // One dispatch of `iterations` loop steps: its time from submit to fence, in ms.
  double time(uint32_t iterations) {
    vk::raii::CommandBuffer cmd =
        std::move(ctx_.device.allocateCommandBuffers({*ctx_.command_pool, vk::CommandBufferLevel::ePrimary, 1}).front());
    cmd.begin(vk::CommandBufferBeginInfo{vk::CommandBufferUsageFlagBits::eOneTimeSubmit});
    cmd.bindPipeline(vk::PipelineBindPoint::eCompute, *kernel_.pipeline);
    cmd.bindDescriptorSets(vk::PipelineBindPoint::eCompute, *kernel_.layout, 0, *set_, {});
    const Push push{iterations, 1.0f, kStep};
    cmd.pushConstants<Push>(*kernel_.layout, vk::ShaderStageFlagBits::eCompute, 0, push);
    cmd.dispatch(kGroups, 1, 1);
    const vk::MemoryBarrier written(vk::AccessFlagBits::eShaderWrite, vk::AccessFlagBits::eHostRead);
    cmd.pipelineBarrier(vk::PipelineStageFlagBits::eComputeShader, vk::PipelineStageFlagBits::eHost, {}, written, {}, {});
    cmd.end();
    ctx_.device.resetFences(*fence_);
    const auto start = std::chrono::steady_clock::now();
    {
      std::scoped_lock lock(ctx_.mutex);  // the queue is shared with the Context's executors
      ctx_.queue.submit(vk::SubmitInfo({}, {}, *cmd), *fence_);
    }
    if (ctx_.device.waitForFences(*fence_, VK_TRUE, UINT64_MAX) != vk::Result::eSuccess)
      throw Error("Waiting for the GPU failed.");
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }

  // Every lane's sum after `iterations` steps equals the exact one, or the kernel did not do
  // the work it is credited with.
  void check(uint32_t iterations) const {
    double expected = 0;
    for (uint32_t v = 0; v < 4 * kChains; ++v) expected += v + double(iterations) * kInner * kStep;
    std::vector<float> sums(kLanes);
    sums_.read(sums.data(), 0, kLanes * sizeof(float));
    for (float s : sums)
      if (s != static_cast<float>(expected))
        throw Error("The multiply-add peak kernel computed " + std::to_string(s) + " where " +
                    std::to_string(expected) + " is exact: this device's float32 arithmetic is wrong.");
  }

 private:
  Context::Impl& ctx_;
  const Kernel& kernel_;
  Buffer sums_;
  vk::raii::DescriptorPool pool_{nullptr};
  vk::raii::DescriptorSet set_{nullptr};
  vk::raii::Fence fence_{nullptr};
};

}  // namespace

FmaPeak measure_fma_peak(Context& context) {
  Context::Impl& ctx = context.impl();
  return ctx.guarded("measuring the multiply-add peak", [&] {
    PeakRun run(ctx);
    run.time(1);  // first-use costs: the driver compiles the pipeline, pages are touched
    uint32_t iterations = 1;
    while (iterations < kMaxIterations && run.time(iterations) < kTargetMs) iterations *= 2;
    double best = run.time(iterations);
    for (int i = 0; i < 2; ++i) best = std::min(best, run.time(iterations));
    run.check(iterations);
    FmaPeak peak;
    peak.lanes = kLanes;
    peak.flops = kLanes * iterations * kInner * kChains * 4 * 2;
    peak.ms = best;
    peak.gflops = double(peak.flops) / (best * 1e6);
    return peak;
  });
}

}  // namespace vkattn
