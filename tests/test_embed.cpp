// Running inside an application: its device, its buffers (at offsets), its command buffer, its
// queue and semaphores. Results must be bit-identical to vkattn's own-device path.
#include <cmath>
#include <cstring>
#include <random>

#include "app_device.h"
#include "gpu.h"
#include "object_counter.h"

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

using test::AppCommands;

void check_no_messages(const test::AppDevice& app) {
  for (const auto& m : app.messages) FAIL_CHECK("validation message: " << m);
}

}  // namespace

TEST_CASE("embedding: recorded into the application's command buffer, on its buffers at offsets") {
  test::NoValidationMessages guard;
  const Block block;
  const std::vector<float> want = block.own_device();
  test::AppDevice app;
  // Texel usage: the cpu profile's kernels read x in place; without it vkattn copies x in and y
  // out around the forward pass, inside the same recording.
  const VkBufferUsageFlags copied = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                    VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  for (const VkBufferUsageFlags usage : {test::AppBuffer::kUsage, copied}) {
    CAPTURE(usage);
    // The application's buffers, with the tensors at offsets inside them.
    const VkDeviceSize x_offset = 256, y_offset = 1024, bytes = block.count() * sizeof(float);
    test::AppBuffer input(app, x_offset + bytes), output(app, y_offset + bytes + 64);
    std::memcpy(reinterpret_cast<char*>(input.data) + x_offset, block.x.data.data(), bytes);
    std::fill_n(reinterpret_cast<float*>(reinterpret_cast<char*>(output.data) + y_offset), block.count(), NAN);

    vkattn::Context ctx = vkattn::Context::adopt({app.instance, app.physical, app.device, app.queue, app.family});
    vkattn::ExecutorOptions options;
    options.external = {{"x", {input.buffer, x_offset, bytes, usage}}, {"y", {output.buffer, y_offset, bytes, usage}}};
    vkattn::Executor exec(ctx, block.graph(), options);
    CHECK_THROWS_WITH_AS(exec.set_input("x", block.x), doctest::Contains("application buffer"), vkattn::Error);

    AppCommands commands(app);
    VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    REQUIRE(vkBeginCommandBuffer(commands.cmd, &begin) == VK_SUCCESS);
    exec.record(commands.cmd);
    REQUIRE(vkEndCommandBuffer(commands.cmd) == VK_SUCCESS);
    for (int frame = 0; frame < 3; ++frame) {  // the same recording, submitted again and again
      commands.submit_and_wait(app.queue);
      const float* y = reinterpret_cast<const float*>(reinterpret_cast<const char*>(output.data) + y_offset);
      CHECK(std::memcmp(y, want.data(), bytes) == 0);
    }
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
      // y stays in vkattn's buffer; x is copied in (no texel usage stated).
      options.external = {{"x", {input.buffer, 0, bytes, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT}}};
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
      // Both fences are signalled, so destroying the semaphores is legal now; but lavapipe's queue
      // thread (Mesa 22.3) can still touch a waited binary semaphore just after the fence, and it
      // crashed here about once in 60 runs. An idle queue first, as careful applications do.
      REQUIRE(vkQueueWaitIdle(app.queue) == VK_SUCCESS);
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
  // Large enough for x, so only the alignment rule can refuse it.
  const VkDeviceSize bytes = block.count() * sizeof(float);
  test::AppBuffer large(app, bytes + 8);
  options.external = {{"x", {large.buffer, 2, bytes}}};
  CHECK_THROWS_WITH_AS(vkattn::Executor(ctx, block.graph(), options), doctest::Contains("multiple of 4"), vkattn::Error);
  options.external = {{"x", {large.buffer, 4, bytes, test::AppBuffer::kUsage}}};
  CHECK_NOTHROW(vkattn::Executor(ctx, block.graph(), options));
  // Storage usage alone: the cpu profile's kernels read x as texels, and it can be neither
  // bound so nor copied.
  options.external = {{"x", {large.buffer, 16, bytes}}};
  if (ctx.device().profile == "cpu")
    CHECK_THROWS_WITH_AS(vkattn::Executor(ctx, block.graph(), options),
                         doctest::Contains("VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT"), vkattn::Error);
}

namespace {

// An application's sampled image, filled from the host through a staging copy and left in
// `layout`, as a renderer's frame would be after its pass.
struct AppImage {
  VkDevice device;
  VkImage image = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;

  AppImage(const test::AppDevice& app, VkFormat format, uint32_t w, uint32_t h, const void* pixels, size_t bytes,
           VkImageLayout layout)
      : device(app.device) {
    VkImageCreateInfo ici{VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO};
    ici.imageType = VK_IMAGE_TYPE_2D;
    ici.format = format;
    ici.extent = {w, h, 1};
    ici.mipLevels = ici.arrayLayers = 1;
    ici.samples = VK_SAMPLE_COUNT_1_BIT;
    ici.tiling = VK_IMAGE_TILING_OPTIMAL;
    ici.usage = VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT;
    REQUIRE(vkCreateImage(device, &ici, nullptr, &image) == VK_SUCCESS);
    memory = test::bind_new_memory(app, image);

    test::AppBuffer staging(app, bytes);
    std::memcpy(staging.data, pixels, bytes);
    AppCommands commands(app);
    VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    vkBeginCommandBuffer(commands.cmd, &begin);
    VkImageMemoryBarrier to_copy{VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER};
    to_copy.dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
    to_copy.oldLayout = VK_IMAGE_LAYOUT_UNDEFINED;
    to_copy.newLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL;
    to_copy.srcQueueFamilyIndex = to_copy.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    to_copy.image = image;
    to_copy.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
    vkCmdPipelineBarrier(commands.cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, nullptr,
                         0, nullptr, 1, &to_copy);
    VkBufferImageCopy region{};
    region.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
    region.imageExtent = {w, h, 1};
    vkCmdCopyBufferToImage(commands.cmd, staging.buffer, image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
    VkImageMemoryBarrier to_read = to_copy;
    to_read.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
    to_read.dstAccessMask = VK_ACCESS_SHADER_READ_BIT;
    to_read.oldLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL;
    to_read.newLayout = layout;
    vkCmdPipelineBarrier(commands.cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 0,
                         nullptr, 0, nullptr, 1, &to_read);
    vkEndCommandBuffer(commands.cmd);
    commands.submit_and_wait(app.queue);
  }
  ~AppImage() {
    vkDestroyImage(device, image, nullptr);
    vkFreeMemory(device, memory, nullptr);
  }
};

uint16_t to_half(float f) {  // exact for the values used here (multiples of 1/64 in [0, 1])
  if (f == 0) return 0;
  int e = 0;
  const float m = std::frexp(f, &e);  // f = m * 2^e, m in [0.5, 1)
  return static_cast<uint16_t>(((e + 14) << 10) | (static_cast<uint32_t>(m * 2048) & 0x3ff));
}

}  // namespace

TEST_CASE("embedding: an application image becomes a normalised NCHW tensor") {
  test::NoValidationMessages guard;
  test::AppDevice app;
  const uint32_t w = 56, h = 84;  // shrunk 2x and 3x: each tensor pixel is the mean of a 2x3 block
  for (VkFormat format : {VK_FORMAT_R8G8B8A8_UNORM, VK_FORMAT_R16G16B16A16_SFLOAT, VK_FORMAT_R32G32B32A32_SFLOAT})
    for (int64_t C : {1, 3, 4})
      for (VkImageLayout layout : {VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL, VK_IMAGE_LAYOUT_GENERAL}) {
        CAPTURE(format); CAPTURE(C); CAPTURE(layout);
        // Texel values that every format holds exactly: k/64 in [0, 1) (RGBA8 stores k*4/255).
        std::vector<float> texels(size_t(w) * h * 4);
        std::mt19937 rng(std::random_device{}());
        for (float& v : texels) v = float(rng() % 64) / 64.f;
        std::vector<unsigned char> bytes;
        auto put = [&](const void* p, size_t n) { bytes.insert(bytes.end(), (const unsigned char*)p, (const unsigned char*)p + n); };
        for (float& v : texels) {
          if (format == VK_FORMAT_R8G8B8A8_UNORM) {
            const unsigned char b = static_cast<unsigned char>(std::lround(v * 255));
            v = b / 255.f;
            put(&b, 1);
          } else if (format == VK_FORMAT_R16G16B16A16_SFLOAT) {
            const uint16_t half = to_half(v);
            put(&half, 2);
          } else {
            put(&v, 4);
          }
        }
        AppImage image(app, format, w, h, bytes.data(), bytes.size(), layout);
        vkattn::Context ctx = vkattn::Context::adopt({app.instance, app.physical, app.device, app.queue, app.family});
        const int64_t H = h / 3, W = w / 2;
        vkattn::Graph g;
        g.output("y", vkattn::ops::flatten(g, g.input("x", {1, C, H, W})));
        vkattn::ExecutorOptions options;
        vkattn::ExternalImage ext{image.image, format, layout, w, h, {0.5f, 0.4f, 0.3f, 0.2f}, {0.25f, 0.5f, 2.f, 1.f}};
        options.images = {{"x", ext}};
        vkattn::Executor exec(ctx, g, options);
        exec.fill_outputs(NAN);
        exec.run();
        const auto y = exec.output("y");

        std::vector<double> want(size_t(C) * H * W);
        for (int64_t yy = 0; yy < H; ++yy)
          for (int64_t xx = 0; xx < W; ++xx) {
            double rgba[4] = {0, 0, 0, 0};
            for (int64_t dy = 0; dy < 3; ++dy)
              for (int64_t dx = 0; dx < 2; ++dx)
                for (int k = 0; k < 4; ++k) rgba[k] += texels[((yy * 3 + dy) * w + xx * 2 + dx) * 4 + k] / 6.0;
            if (C == 1)
              want[yy * W + xx] = (0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2] - 0.5) / 0.25;
            else
              for (int64_t c = 0; c < C; ++c) want[(c * H + yy) * W + xx] = (rgba[c] - ext.mean[c]) / ext.std[c];
          }
        test::check_close(y.data, want, 1e-5);
      }
  check_no_messages(app);
}

TEST_CASE("embedding: a thousand frames hold device memory and live Vulkan objects constant, and nothing leaks") {
  test::NoValidationMessages guard;
  test::AppDevice app;
  const test::LiveObjects before = test::live_objects();
  {
    std::vector<float> texels(32 * 32 * 4);
    for (size_t i = 0; i < texels.size(); ++i) texels[i] = float(i % 61) / 61.f;
    AppImage frame(app, VK_FORMAT_R32G32B32A32_SFLOAT, 32, 32, texels.data(), texels.size() * 4,
                   VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL);
    vkattn::AdoptedDevice handles{app.instance, app.physical, app.device, app.queue, app.family};
    handles.get_instance_proc_addr = test::counting_get_instance_proc_addr();
    vkattn::Context ctx = vkattn::Context::adopt(handles);
    const auto weights = test::random_weights(4, 1);
    vkattn::Graph g;
    const auto block = vkattn::add_self_attention(g, g.input("x", {1, 4, 16, 16}), weights, "", true);
    g.output("y", block.y);
    g.output("attention", *block.attention);
    const VkDeviceSize y_bytes = 4 * 16 * 16 * sizeof(float);
    test::AppBuffer result(app, y_bytes);
    vkattn::ExecutorOptions options;
    options.images = {{"x", {frame.image, VK_FORMAT_R32G32B32A32_SFLOAT, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL, 32, 32}}};
    options.external = {{"y", {result.buffer, 0, y_bytes}}};
    vkattn::Executor exec(ctx, g, options);

    AppCommands commands(app);
    std::vector<float> first;
    test::LiveObjects warm;
    for (int f = 1; f <= 1000; ++f) {
      if (f % 2) {  // a frame the application records and submits
        vkResetCommandPool(app.device, commands.pool, 0);
        VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
        begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
        vkBeginCommandBuffer(commands.cmd, &begin);
        exec.record(commands.cmd);
        vkEndCommandBuffer(commands.cmd);
        commands.submit_and_wait(app.queue);
      } else {  // a frame vkattn submits on the application's queue
        exec.submit({}, {});
        exec.wait();
      }
      const std::vector<float> y(result.data, result.data + y_bytes / sizeof(float));
      if (f == 1) first = y;
      if (y != first) FAIL_CHECK("frame " << f << " differs from frame 1");
      if (f == 2) warm = test::live_objects();
      if (f == 1000) {
        const test::LiveObjects last = test::live_objects();
        INFO("after frame 2: " << test::to_string(warm) << "; after frame 1000: " << test::to_string(last));
        CHECK(last == warm);
        CHECK(warm.total() > 0);
      }
    }
  }
  const test::LiveObjects after = test::live_objects();
  INFO("vkattn still holds: " << test::to_string(after));
  CHECK(after == before);  // everything vkattn made is gone with it
  check_no_messages(app);
}
