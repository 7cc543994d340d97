// What a forward pass will do, decided from the graph and the device's limits alone, with no
// Vulkan call: the dispatches in order, where each tensor lives, which intermediates share a
// buffer, how many batch items each vkCmdDispatch takes, and where barriers go. Everything a
// valid graph could exceed on this device is refused here, before any memory is allocated.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ops/op.h"
#include "vkattn/executor.h"

namespace vkattn {

// Where a tensor's memory comes from.
struct Home {
  // Unused: no kernel reads or writes it (a weight only another profile's kernel reads, or the
  // output of a node whose relu was fused into it): nothing is allocated.
  enum Kind { Input, Weight, Output, Shared, Unused } kind = Input;
  uint32_t slot = 0;  // Shared: which of the shared buffers
};

// A node that writes a graph input before the graph's own nodes run (an image conversion).
struct HeadNode {
  std::shared_ptr<const Op> op;
  TensorId writes;
  std::string image;  // the input whose application image binding 0 samples
};

// A node that reads a graph output after the graph's own nodes ran (a write into an image).
struct TailNode {
  std::shared_ptr<const Op> op;
  TensorId reads;
  std::string image;  // the output whose application image binding 0 stores to
};

// What binding 0 of a step's kernel is: a tensor like the rest, or an application image.
enum class ImageBinding { none, sampled, storage };

// One dispatch of a node (a node may have several), split into chunks of batch items.
struct Step {
  std::string name;        // the kernel
  std::string node;        // the graph node it belongs to
  double flops = 0;
  double bytes = 0;        // each tensor the dispatch binds, once
  Dispatch dispatch;
  std::string image;       // the input (sampled) or output (storage) whose image is binding 0
  ImageBinding image_binding = ImageBinding::none;  // when not none the operands follow the image
  uint64_t per_chunk = 1;  // batch items per vkCmdDispatch
  bool barrier_before = false;
};

struct Plan {
  std::vector<Home> home;            // per tensor
  std::vector<uint32_t> float_bytes; // per tensor: 4, or 2 where it is stored as float16
  std::vector<uint64_t> slot_bytes;  // one per shared buffer
  std::vector<Step> steps;
  MemoryPlan memory;                 // bytes, barriers and dispatches
};

// With Precision::fp16 every tensor but the graph's inputs and outputs is stored in 16 bits, and
// the steps that bind one run their kernel's fp16 build (the graph comes from with_fp16_storage).
Plan make_plan(const Graph& graph, const DeviceInfo& device, Precision precision = Precision::fp32,
               const std::vector<HeadNode>& head = {}, const std::vector<TailNode>& tail = {});

// The most workgroups one vkCmdDispatch can hold, folded into a 3-D grid.
uint64_t max_groups(const DeviceInfo& device);

}  // namespace vkattn
