// Running inside an application: its device, its buffers (at offsets), its command buffer, its
// queue and semaphores. Results must be bit-identical to vkattn's own-device path.
#include <cstring>

#include "app_device.h"
#include "gpu.h"

namespace {

struct Block {
  vkattn::SelfAttentionWeights weights = test::random_weights(24, 3);
  vkattn::HostTensor x = test::random_tensor({2, 24, 7, 9});
  vkattn::Shape y_shape = x.shape;
  size_t count() const { return x.data.size(); }

  vkattn::Graph graph() const {
    vkattn::Graph g;
    g.output("y", vkattn::add_self_attention(g, g.input("x", x.shape), weights).y);
    return g;
  }
  // The own-device path: vkattn's instance, device, buffers and submission.
  std::vector<float> own_device() const {
    vkattn::Context ctx = vkattn::Context::create(test::validated_options());
    vkattn::Executor exec(ctx, graph());
    exec.set_input("x", x);
    exec.run();
    return exec.output("y").data;
  }
};

// One command buffer of the application's, with its pool.
struct AppCommands {
  VkDevice device;
  VkCommandPool pool = VK_NULL_HANDLE;
  VkCommandBuffer cmd = VK_NULL_HANDLE;
  explicit AppCommands(const test::AppDevice& app) : device(app.device) {
    VkCommandPoolCreateInfo pci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO, nullptr, 0, app.family};
    REQUIRE(vkCreateCommandPool(device, &pci, nullptr, &pool) == VK_SUCCESS);
    VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, nullptr, pool,
                                   VK_COMMAND_BUFFER_LEVEL_PRIMARY, 1};
    REQUIRE(vkAllocateCommandBuffers(device, &ai, &cmd) == VK_SUCCESS);
  }
  ~AppCommands() { vkDestroyCommandPool(device, pool, nullptr); }
};

void check_no_messages(const test::AppDevice& app) {
  for (const auto& m : app.messages) FAIL_CHECK("validation message: " << m);
}

}  // namespace

TEST_CASE("embedding: recorded into the application's command buffer, on its buffers at offsets") {
  test::NoValidationMessages guard;
  const Block block;
  const std::vector<float> want = block.own_device();
  test::AppDevice app;
  {
    // The application's buffers, with the tensors at offsets inside them.
    const VkDeviceSize x_offset = 256, y_offset = 1024, bytes = block.count() * sizeof(float);
    test::AppBuffer input(app, x_offset + bytes), output(app, y_offset + bytes + 64);
    std::memcpy(reinterpret_cast<char*>(input.data) + x_offset, block.x.data.data(), bytes);
    std::fill_n(reinterpret_cast<float*>(reinterpret_cast<char*>(output.data) + y_offset), block.count(), NAN);

    vkattn::Context ctx = vkattn::Context::adopt({app.instance, app.physical, app.device, app.queue, app.family});
    vkattn::ExecutorOptions options;
    options.external = {{"x", {input.buffer, x_offset, bytes}}, {"y", {output.buffer, y_offset, bytes}}};
    vkattn::Executor exec(ctx, block.graph(), options);
    CHECK_THROWS_WITH_AS(exec.set_input("x", block.x), doctest::Contains("application buffer"), vkattn::Error);

    AppCommands commands(app);
    VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    REQUIRE(vkBeginCommandBuffer(commands.cmd, &begin) == VK_SUCCESS);
    exec.record(commands.cmd);
    REQUIRE(vkEndCommandBuffer(commands.cmd) == VK_SUCCESS);
    VkFenceCreateInfo fci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VkFence fence;
    REQUIRE(vkCreateFence(app.device, &fci, nullptr, &fence) == VK_SUCCESS);
    for (int frame = 0; frame < 3; ++frame) {  // the same recording, submitted again and again
      VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
      submit.commandBufferCount = 1;
      submit.pCommandBuffers = &commands.cmd;
      REQUIRE(vkQueueSubmit(app.queue, 1, &submit, fence) == VK_SUCCESS);
      REQUIRE(vkWaitForFences(app.device, 1, &fence, VK_TRUE, UINT64_MAX) == VK_SUCCESS);
      vkResetFences(app.device, 1, &fence);
      const float* y = reinterpret_cast<const float*>(reinterpret_cast<const char*>(output.data) + y_offset);
      CHECK(std::memcmp(y, want.data(), bytes) == 0);
    }
    vkDestroyFence(app.device, fence, nullptr);
  }
  check_no_messages(app);
}

TEST_CASE("embedding: submitted on the application's queue between its semaphores") {
  test::NoValidationMessages guard;
  const Block block;
  const std::vector<float> want = block.own_device();
  test::AppDevice app;
  for (bool timeline : {false, true}) {
    if (timeline && !app.timeline) continue;
    CAPTURE(timeline);
    const VkDeviceSize bytes = block.count() * sizeof(float);
    test::AppBuffer staging(app, bytes), input(app, bytes), readback(app, bytes);
    std::memcpy(staging.data, block.x.data.data(), bytes);
    std::fill_n(readback.data, block.count(), NAN);
    {
      vkattn::Context ctx = vkattn::Context::adopt({app.instance, app.physical, app.device, app.queue, app.family});
      vkattn::Graph graph = block.graph();
      vkattn::ExecutorOptions options;
      options.external = {{"x", {input.buffer, 0, bytes}}};  // y stays in vkattn's buffer
      vkattn::Executor exec(ctx, graph, options);

      // Semaphores: binary before/after, or one timeline counting 1 (input ready), 2 (vkattn done).
      VkSemaphoreTypeCreateInfo type{VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO, nullptr, VK_SEMAPHORE_TYPE_TIMELINE, 0};
      VkSemaphoreCreateInfo sci{VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, timeline ? &type : nullptr};
      VkSemaphore before, after;
      REQUIRE(vkCreateSemaphore(app.device, &sci, nullptr, &before) == VK_SUCCESS);
      REQUIRE(vkCreateSemaphore(app.device, &sci, nullptr, &after) == VK_SUCCESS);

      // The application's upload: staging -> input, then it signals `before`.
      AppCommands upload(app);
      VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
      vkBeginCommandBuffer(upload.cmd, &begin);
      const VkBufferCopy region{0, 0, bytes};
      vkCmdCopyBuffer(upload.cmd, staging.buffer, input.buffer, 1, &region);
      vkEndCommandBuffer(upload.cmd);
      const uint64_t one = 1;
      VkTimelineSemaphoreSubmitInfo signal_one{VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO, nullptr, 0, nullptr, 1, &one};
      VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO, timeline ? &signal_one : nullptr};
      submit.commandBufferCount = 1;
      submit.pCommandBuffers = &upload.cmd;
      submit.signalSemaphoreCount = 1;
      submit.pSignalSemaphores = &before;
      REQUIRE(vkQueueSubmit(app.queue, 1, &submit, VK_NULL_HANDLE) == VK_SUCCESS);

      exec.submit({{before, timeline ? 1u : 0u, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT}}, {{after, timeline ? 2u : 0u}});

      // The application's next pass waits for vkattn and reads nothing of it here but the
      // semaphore; then the host waits on the app's fence and on vkattn's.
      AppCommands after_pass(app);
      vkBeginCommandBuffer(after_pass.cmd, &begin);
      vkEndCommandBuffer(after_pass.cmd);
      const uint64_t two = 2;
      const VkPipelineStageFlags stage = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
      VkTimelineSemaphoreSubmitInfo wait_two{VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO, nullptr, 1, &two, 0, nullptr};
      VkSubmitInfo next{VK_STRUCTURE_TYPE_SUBMIT_INFO, timeline ? &wait_two : nullptr, 1, &after, &stage, 1, &after_pass.cmd};
      VkFenceCreateInfo fci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
      VkFence fence;
      vkCreateFence(app.device, &fci, nullptr, &fence);
      REQUIRE(vkQueueSubmit(app.queue, 1, &next, fence) == VK_SUCCESS);
      REQUIRE(vkWaitForFences(app.device, 1, &fence, VK_TRUE, UINT64_MAX) == VK_SUCCESS);
      exec.wait();
      const auto y = exec.output("y");
      CHECK(std::memcmp(y.data.data(), want.data(), bytes) == 0);
      vkDestroyFence(app.device, fence, nullptr);
      vkDestroySemaphore(app.device, before, nullptr);
      vkDestroySemaphore(app.device, after, nullptr);
    }
  }
  check_no_messages(app);
}

TEST_CASE("embedding: an application buffer that is too small or names nothing is refused") {
  test::AppDevice app;
  test::AppBuffer small(app, 64);
  vkattn::Context ctx = vkattn::Context::adopt({app.instance, app.physical, app.device, app.queue, app.family});
  const Block block;
  vkattn::ExecutorOptions options;
  options.external = {{"x", {small.buffer, 0, 64}}};
  CHECK_THROWS_WITH_AS(vkattn::Executor(ctx, block.graph(), options), doctest::Contains("at least"), vkattn::Error);
  options.external = {{"z", {small.buffer, 0, 64}}};
  CHECK_THROWS_WITH_AS(vkattn::Executor(ctx, block.graph(), options), doctest::Contains("neither an input nor an output"),
                       vkattn::Error);
  options.external = {{"x", {small.buffer, 2, 64}}};
  CHECK_THROWS_AS(vkattn::Executor(ctx, block.graph(), options), vkattn::Error);
}
