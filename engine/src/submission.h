// vkattn's own command buffer holding a recorded forward pass, its fence and, for benchmarks,
// its timestamp queries: submit with the application's semaphores, wait, read per-step times.
#pragma once
#include <functional>
#include <vector>
#include <vulkan/vulkan_raii.hpp>

#include "context_impl.h"
#include "recorder.h"
#include "vkattn/executor.h"

namespace vkattn {

struct StepTime {
  double barrier_ms = 0;   // the barrier recorded before the step (0 where there is none)
  double dispatch_ms = 0;  // its dispatches
};

class Submission {
 public:
  Submission(Context::Impl& ctx, const Recorder& recorder, bool timestamps);
  ~Submission();  // waits for a pending submit: the GPU may still use the command buffer

  void submit(const std::vector<SemaphoreWait>& waits, const std::vector<SemaphoreSignal>& signals);
  // No-op when nothing is pending. With while_waiting, it is called every 50 ms until the GPU is done.
  void wait(const std::function<void()>& while_waiting = {});
  bool pending() const { return pending_; }
  // Times per recorded step of the last finished submit; empty without timestamps.
  std::vector<StepTime> step_times() const;

 private:
  Context::Impl& ctx_;
  size_t steps_;
  vk::raii::QueryPool queries_{nullptr};
  vk::raii::CommandBuffer cmd_{nullptr};
  vk::raii::Fence fence_{nullptr};
  bool pending_ = false, finished_ = false;
};

}  // namespace vkattn
