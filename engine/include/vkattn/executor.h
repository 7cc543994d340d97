// An Executor turns a Graph into GPU work on one Context: it plans memory (intermediates whose
// lifetimes do not overlap share a buffer), builds each pipeline once, and records the whole
// forward pass into one command buffer, with a barrier only where a node touches memory an
// earlier node wrote (or, for shared memory, read). run() then only submits and waits.
// The Context must outlive every Executor made on it.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "vkattn/context.h"
#include "vkattn/graph.h"

namespace vkattn {

struct ExecutorOptions {
  bool timestamps = false;  // per-node GPU times (for benchmarks) when the queue supports them
};

struct NodeTiming {
  std::string op;
  double gpu_ms = 0;  // from timestamp queries
  double flops = 0;   // floating-point operations the node performs
};

struct MemoryPlan {
  uint64_t intermediate_bytes = 0;   // what the shared intermediate buffers take
  uint64_t unshared_bytes = 0;       // what they would take with one buffer per tensor
  uint64_t weight_bytes = 0, io_bytes = 0;
  uint32_t barriers = 0, dispatches = 0;
};

class Executor {
 public:
  Executor(Context& context, const Graph& graph, const ExecutorOptions& options = {});
  ~Executor();
  Executor(Executor&&) noexcept;

  // Copies a host tensor into the named graph input; its shape must equal the input's.
  void set_input(const std::string& name, const HostTensor& tensor);
  // Submits the recorded forward pass and waits for it.
  void run();
  HostTensor output(const std::string& name) const;
  // Sets every element of every output to `value`. Tests fill with NaN so that an element a
  // kernel fails to write cannot pass for a correct one.
  void fill_outputs(float value);

  const MemoryPlan& memory_plan() const;
  // Per-node times of the last run (empty unless options.timestamps and the queue has them).
  std::vector<NodeTiming> timings() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vkattn
