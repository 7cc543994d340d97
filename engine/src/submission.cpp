#include "submission.h"

namespace vkattn {

Submission::Submission(Context::Impl& ctx, const Recorder& recorder, bool timestamps)
    : ctx_(ctx), steps_(recorder.steps()) {
  const uint32_t query_count = static_cast<uint32_t>(2 * steps_ + 1);  // Recorder::record's layout
  if (timestamps) queries_ = vk::raii::QueryPool(ctx.device, {{}, vk::QueryType::eTimestamp, query_count});
  cmd_ = std::move(ctx.device.allocateCommandBuffers({*ctx.command_pool, vk::CommandBufferLevel::ePrimary, 1}).front());
  cmd_.begin(vk::CommandBufferBeginInfo{});
  if (timestamps) cmd_.resetQueryPool(*queries_, 0, query_count);
  recorder.record(*cmd_, timestamps ? &queries_ : nullptr);
  cmd_.end();
  fence_ = vk::raii::Fence(ctx.device, vk::FenceCreateInfo{});
}

Submission::~Submission() {
  // Our own fence only. After a lost device the wait fails: nothing runs any more, and a
  // destructor must not throw.
  if (!pending_) return;
  try {
    (void)ctx_.device.waitForFences(*fence_, VK_TRUE, UINT64_MAX);
  } catch (const vk::SystemError&) {
  }
}

void Submission::submit(const std::vector<SemaphoreWait>& waits, const std::vector<SemaphoreSignal>& signals) {
  wait();  // the command buffer may be pending only once
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
  const vk::CommandBuffer handle = *cmd_;
  vk::SubmitInfo info(wait_handles, stages, handle, signal_handles);
  // Values matter only for timeline semaphores (binary ones ignore them), and the struct is
  // chained only when some value is set, so binary-only submits work on Vulkan 1.1 devices.
  const vk::TimelineSemaphoreSubmitInfo values(wait_values, signal_values);
  if (timeline) info.pNext = &values;
  ctx_.device.resetFences(*fence_);
  std::scoped_lock lock(ctx_.mutex);  // the queue is shared by the Context's executors
  ctx_.queue.submit(info, *fence_);
  pending_ = true;
}

void Submission::wait(const std::function<void()>& while_waiting) {
  if (!pending_) return;
  constexpr uint64_t kSlice = 50'000'000;  // ns between calls of while_waiting
  while (true) {
    const vk::Result result = ctx_.device.waitForFences(*fence_, VK_TRUE, while_waiting ? kSlice : UINT64_MAX);
    if (result == vk::Result::eSuccess) break;
    if (result != vk::Result::eTimeout) throw Error("Waiting for the GPU failed.");
    while_waiting();  // may throw: the work stays pending, and the next wait or submit waits for it
  }
  pending_ = false;
  finished_ = true;
}

std::vector<StepTime> Submission::step_times() const {
  std::vector<StepTime> out;
  if (!*queries_ || !finished_) return out;
  const uint32_t count = static_cast<uint32_t>(2 * steps_ + 1);
  auto [result, stamps] = queries_.getResults<uint64_t>(
      0, count, count * sizeof(uint64_t), sizeof(uint64_t), vk::QueryResultFlagBits::e64 | vk::QueryResultFlagBits::eWait);
  if (result != vk::Result::eSuccess) return out;
  const double ms = ctx_.info.timestamp_period_ns * 1e-6;
  for (size_t i = 0; i < steps_; ++i)
    out.push_back({(stamps[2 * i + 1] - stamps[2 * i]) * ms, (stamps[2 * i + 2] - stamps[2 * i + 1]) * ms});
  return out;
}

}  // namespace vkattn
