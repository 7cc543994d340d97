// An Executor turns a Graph into GPU work on one Context: it plans memory (intermediates whose
// lifetimes do not overlap share a buffer), builds each pipeline once, and records the whole
// forward pass into one command buffer, with a barrier only where a node touches memory an
// earlier node wrote (or, for shared memory, read). run() then only submits and waits.
// The Context must outlive every Executor made on it.
//
// Threads: one Executor is one set of inputs, one forward pass and one set of outputs, so it is
// used by one thread at a time (set_input, run and output from two threads at once would mix
// their data: give each thread its own Executor, or serialise). Several Executors on one Context
// may be created, run and destroyed from different threads at once: the Context synchronises its
// queue, command pool and pipelines. In a child process forked after the Context was made, every
// call is a vkattn::Error (the device belongs to the parent) and destructors free nothing.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "vkattn/context.h"
#include "vkattn/graph.h"

namespace vkattn {

// An application's VkBuffer, on the Context's device, that holds a graph input or output: vkattn
// reads or writes the tensor there (float32, C order) instead of in its own host-visible buffer.
// The buffer needs VK_BUFFER_USAGE_STORAGE_BUFFER_BIT; offset must be a multiple of 4 and
// size at least the tensor's bytes. vkattn never frees it. `usage` says how the application
// created it: some kernels (the cpu profile's) read tensors as texel buffers, and a tensor they
// read is used in place only with VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT; a tensor that some
// kernel reads or writes 16 bytes at a time (vec4 texels, vec4 stores) is used in place only at an
// offset that is a multiple of 16. Otherwise vkattn copies an input into its own
// memory at the start of each forward pass (VK_BUFFER_USAGE_TRANSFER_SRC_BIT needed) or an output
// out at the end (VK_BUFFER_USAGE_TRANSFER_DST_BIT needed), and says so if neither is possible.
struct ExternalBuffer {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceSize offset = 0;
  VkDeviceSize size = 0;
  VkBufferUsageFlags usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
};

// An application's image as a graph input of shape (1, C, H, W): a shader samples it, resizes it
// to H x W (averaging filtered samples over each pixel's footprint) and normalises it,
// (v - mean[c]) / std[c], with C = 1 the luminance, C = 3 or 4 the colour channels.
// Formats: R8G8B8A8_UNORM, R8G8B8A8_SRGB, R16G16B16A16_SFLOAT, R32G32B32A32_SFLOAT. The image
// needs VK_IMAGE_USAGE_SAMPLED_BIT, one mip level and layer, and must be in `layout` (GENERAL or
// SHADER_READ_ONLY_OPTIMAL) whenever the forward pass runs: vkattn reads it there and never
// changes its layout. vkattn makes its own view and sampler of it and destroys only those.
struct ExternalImage {
  VkImage image = VK_NULL_HANDLE;
  VkFormat format = VK_FORMAT_R8G8B8A8_UNORM;
  VkImageLayout layout = VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL;
  uint32_t width = 0, height = 0;
  float mean[4] = {0, 0, 0, 0};
  float std[4] = {1, 1, 1, 1};
};

// A graph output of shape (B, C, H, W) that a kernel also writes into an application's image at
// the end of every forward pass, item b into array layer b (the tensor stays readable with
// output()). Each value becomes v * scale + bias, then is clamped to the format's range: [0, 1]
// for the 8-bit formats, +-65504 for R16G16B16A16_SFLOAT, none for the 32-bit ones. C = 3 is RGB
// with alpha 1, C = 4 is RGBA as it is, C = 1 is grey (R = G = B, alpha 1) or, with
// colour_map = viridis, the colour of the mapped value in [0, 1] (dark blue to yellow, as the
// samples' heatmaps); R32_SFLOAT takes C = 1 and stores the mapped value. A pixel with a NaN in
// any channel is nan_colour (R32_SFLOAT: its red). R8G8B8A8_SRGB stores the sRGB encoding, so
// that sampling it returns the mapped value.
// The image: VK_IMAGE_TYPE_2D of width W, height H and exactly B array layers, one mip level (or
// more: vkattn writes level 0), created with VK_IMAGE_USAGE_STORAGE_BIT; an R8G8B8A8_SRGB image
// also with VK_IMAGE_CREATE_MUTABLE_FORMAT_BIT and VK_IMAGE_CREATE_EXTENDED_USAGE_BIT (vkattn
// writes it through an R8G8B8A8_UNORM view, as few devices store to sRGB directly). `usage` and
// `flags` say how the application created it. It must be in VK_IMAGE_LAYOUT_GENERAL whenever the
// forward pass runs; vkattn never changes its layout. Synchronisation is record()'s: the entry
// barrier orders the write after every earlier command (the previous frame's sampling of it too),
// the exit barrier makes it visible to every later command (ALL_COMMANDS, MEMORY_READ), so a
// fragment shader that samples the image in GENERAL layout next needs no barrier of its own. A
// layout transition is a write of its own: the application's image barrier for it names
// COMPUTE_SHADER and SHADER_WRITE as its source, and the image is back in GENERAL before the next
// forward pass.
struct ImageOutput {
  enum class ColourMap { grey, viridis };
  VkImage image = VK_NULL_HANDLE;
  VkFormat format = VK_FORMAT_R8G8B8A8_UNORM;
  VkImageUsageFlags usage = VK_IMAGE_USAGE_STORAGE_BIT;
  VkImageCreateFlags flags = 0;
  uint32_t width = 0, height = 0, layers = 1;
  float scale = 1, bias = 0;
  ColourMap colour_map = ColourMap::grey;
  float nan_colour[4] = {1, 0, 1, 1};  // magenta: seen at once
};

// How the forward pass stores tensors between kernels. fp32: as float. fp16: weights and every
// tensor between kernels as IEEE half (storageBuffer16BitAccess; kernels still compute in
// float32, converting as they load and store), so memory and traffic halve and results carry
// half's rounding (about 3 significant digits; magnitudes past 65504 become infinite). Graph
// inputs and outputs stay float32 everywhere: host tensors, application buffers and images
// are the same as with fp32.
enum class Precision { fp32, fp16 };
// "fp32" or "fp16".
const char* to_string(Precision precision);
// The Precision that name gives, or an Error naming it.
Precision parse_precision(const std::string& name);

struct ExecutorOptions {
  bool timestamps = false;  // per-node GPU times (for benchmarks) when the queue supports them
  Precision precision = Precision::fp32;
  // Graph inputs and outputs, by name, that live in application buffers.
  std::map<std::string, ExternalBuffer> external;
  // Graph inputs, by name, converted from application images at the start of every run.
  std::map<std::string, ExternalImage> images;
  // Graph outputs, by name, also written into application images at the end of every run.
  std::map<std::string, ImageOutput> image_outputs;
};

// A semaphore the application passes to Executor::submit. value is used for timeline
// semaphores (VK_SEMAPHORE_TYPE_TIMELINE) and ignored for binary ones.
struct SemaphoreWait {
  VkSemaphore semaphore = VK_NULL_HANDLE;
  uint64_t value = 0;
  VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT;  // what waits
};
struct SemaphoreSignal {
  VkSemaphore semaphore = VK_NULL_HANDLE;
  uint64_t value = 0;
};

struct NodeTiming {
  std::string node;       // the graph node's name ("attn.fused", "conv1", "max_pool2d#3")
  std::string kernel;     // its kernel (the device's profile picks some)
  double gpu_ms = 0;      // from timestamp queries, summed over the node's dispatches
  double barrier_ms = 0;  // the same, over the pipeline barriers recorded before them
  double flops = 0;       // floating-point operations the node performs
  double bytes = 0;       // what it must move at least: every tensor its dispatches bind, once each
  uint32_t dispatches = 0;  // its vkCmdDispatch calls
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

  // --- running inside an application's frame ---
  // Records the forward pass into the application's command buffer, which must be in the
  // recording state, outside a render pass, for a queue family with compute. The application
  // submits it. On entry vkattn records a barrier from every earlier command's writes
  // (ALL_COMMANDS, MEMORY_WRITE) to its compute shaders, and on exit one from its shader writes
  // to every later command (ALL_COMMANDS, MEMORY_READ | MEMORY_WRITE), so the application needs
  // no barrier of its own around it. Descriptor sets are vkattn's: the command buffer is valid
  // while this Executor lives. Record it into as many command buffers as you like. Outputs in
  // vkattn's own buffers can be read with output() once the application's submission finished.
  void record(VkCommandBuffer command_buffer) const;
  // Submits vkattn's own command buffer on the Context's queue: it waits for `waits` and signals
  // `signals` (binary or timeline semaphores; timeline ones need the device's timelineSemaphore
  // feature) and returns without waiting for the GPU. A later submit or run() first waits for
  // this one on vkattn's own fence. Outputs in vkattn's host buffers are readable after wait().
  void submit(const std::vector<SemaphoreWait>& waits, const std::vector<SemaphoreSignal>& signals);
  // Waits for the last submit() on vkattn's own fence. With while_waiting, that is called about
  // every 50 ms until the GPU is done (to poll for a Ctrl-C, say); if it throws, the exception
  // leaves the work still running: the next wait, submit, run, set_input or the destructor waits
  // for it first.
  void wait(const std::function<void()>& while_waiting = {});
  HostTensor output(const std::string& name) const;
  // Copies elements [first, first + count) of an output into dst, for outputs too large to copy
  // whole (save_npy's streaming form takes this as its reader).
  void read_output(const std::string& name, uint64_t first, uint64_t count, float* dst) const;
  // Sets every element of every output to `value`. Tests fill with NaN so that an element a
  // kernel fails to write cannot pass for a correct one.
  void fill_outputs(float value);

  const MemoryPlan& memory_plan() const;
  // The kernel of every dispatch step, in recording order (a node may have several steps; the
  // device's kernel profile decides some of them).
  std::vector<std::string> kernels() const;
  // Per-node times of the last run, in recording order (empty unless options.timestamps and the
  // queue has them).
  std::vector<NodeTiming> timings() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vkattn
