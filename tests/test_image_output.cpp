// Graph outputs written into an application's images, on the application's device: every format,
// grey, viridis, RGB and RGBA, array layers, NaN, clamping, both ways of running (vkattn's submit,
// the application's command buffer), against the host tensor the same run gives (the conformance
// suite's comparison, image_check.h; its image_output cases run on vkattn's own device); and a
// sentence for each image that cannot take the output. Validation with synchronization validation is on: the application copies the
// image right after vkattn wrote it with no barrier of its own, as the documented contract says.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <tuple>

#include "app_device.h"
#include "gpu.h"
#include "vkattn/image_check.h"

namespace {

// An application's storage image in GENERAL layout, array layers, readable with a copy.
struct AppStorageImage {
  VkDevice device;
  VkImage image = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  VkImageUsageFlags usage = VK_IMAGE_USAGE_STORAGE_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_SAMPLED_BIT;
  VkImageCreateFlags flags = 0;

  AppStorageImage(const test::AppDevice& app, VkFormat format, uint32_t w, uint32_t h, uint32_t layers)
      : device(app.device) {
    if (format == VK_FORMAT_R8G8B8A8_SRGB)
      flags = VK_IMAGE_CREATE_MUTABLE_FORMAT_BIT | VK_IMAGE_CREATE_EXTENDED_USAGE_BIT;
    VkImageCreateInfo ici{VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO};
    ici.flags = flags;
    ici.imageType = VK_IMAGE_TYPE_2D;
    ici.format = format;
    ici.extent = {w, h, 1};
    ici.mipLevels = 1;
    ici.arrayLayers = layers;
    ici.samples = VK_SAMPLE_COUNT_1_BIT;
    ici.tiling = VK_IMAGE_TILING_OPTIMAL;
    ici.usage = usage;
    REQUIRE(vkCreateImage(device, &ici, nullptr, &image) == VK_SUCCESS);
    memory = test::bind_new_memory(app, image);
    test::AppCommands commands(app);
    VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    vkBeginCommandBuffer(commands.cmd, &begin);
    VkImageMemoryBarrier to_general{VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER};
    to_general.oldLayout = VK_IMAGE_LAYOUT_UNDEFINED;
    to_general.newLayout = VK_IMAGE_LAYOUT_GENERAL;
    to_general.srcQueueFamilyIndex = to_general.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    to_general.image = image;
    to_general.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, layers};
    vkCmdPipelineBarrier(commands.cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, 0, 0,
                         nullptr, 0, nullptr, 1, &to_general);
    vkEndCommandBuffer(commands.cmd);
    commands.submit_and_wait(app.queue);
  }
  ~AppStorageImage() {
    vkDestroyImage(device, image, nullptr);
    vkFreeMemory(device, memory, nullptr);
  }
  // Records a copy of every layer into `to`, tightly packed, in TRANSFER_SRC_OPTIMAL and back to
  // GENERAL for the next forward pass. A layout transition is a write of its own: its barrier
  // names vkattn's shader write as what it follows, as ImageOutput's comment says.
  void record_copy(VkCommandBuffer cmd, VkBuffer to, uint32_t w, uint32_t h, uint32_t layers) const {
    VkImageMemoryBarrier to_src{VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER};
    to_src.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
    to_src.dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT;
    to_src.oldLayout = VK_IMAGE_LAYOUT_GENERAL;
    to_src.newLayout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL;
    to_src.srcQueueFamilyIndex = to_src.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    to_src.image = image;
    to_src.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, layers};
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, nullptr, 0,
                         nullptr, 1, &to_src);
    VkBufferImageCopy region{};
    region.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, layers};
    region.imageExtent = {w, h, 1};
    vkCmdCopyImageToBuffer(cmd, image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, to, 1, &region);
    VkImageMemoryBarrier back = to_src;
    back.srcAccessMask = 0;  // a read: the execution dependency is enough
    back.dstAccessMask = 0;
    back.oldLayout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL;
    back.newLayout = VK_IMAGE_LAYOUT_GENERAL;
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, 0, 0, nullptr, 0,
                         nullptr, 1, &back);
  }
};

// A graph whose output "y" (B, C, H, W) is x * 1 (a node, so the output is a kernel's write).
vkattn::Graph scaled_graph(const vkattn::Shape& shape) {
  vkattn::Graph g;
  const auto x = g.input("x", shape);
  g.output("y", vkattn::ops::binary(g, vkattn::ops::Binary::mul, x, g.weight("one", {{}, {1.f}})));
  return g;
}

}  // namespace

TEST_CASE("image outputs: every format, grey, viridis, RGB and RGBA, array layers, NaN and clamping") {
  test::NoValidationMessages guard;
  test::AppDevice app;
  vkattn::Context ctx = vkattn::Context::adopt({app.instance, app.physical, app.device, app.queue, app.family});
  std::mt19937 rng(std::random_device{}());
  const int64_t W = 37, H = 23;  // 851 pixels a layer: several workgroups, a ragged last one
  using Map = vkattn::ImageOutput::ColourMap;
  for (VkFormat format : {VK_FORMAT_R8G8B8A8_UNORM, VK_FORMAT_R8G8B8A8_SRGB, VK_FORMAT_R16G16B16A16_SFLOAT,
                          VK_FORMAT_R32G32B32A32_SFLOAT, VK_FORMAT_R32_SFLOAT})
    for (int64_t C : {1, 3, 4})
      for (Map map : {Map::grey, Map::viridis})
        for (int64_t B : {1, 3})
          for (bool recorded : {false, true}) {
            if ((C != 1 && map == Map::viridis) || (format == VK_FORMAT_R32_SFLOAT && (C != 1 || map == Map::viridis)))
              continue;  // refused: see the next test case
            CAPTURE(format); CAPTURE(C); CAPTURE(int(map)); CAPTURE(B); CAPTURE(recorded);
            vkattn::HostTensor x = test::random_tensor({B, C, H, W});
            for (float& v : x.data) v *= 1.5f;  // beyond [-1, 1]: the 8-bit formats clamp
            for (int k = 0; k < 7; ++k) x.data[rng() % x.data.size()] = NAN;
            AppStorageImage image(app, format, W, H, uint32_t(B));
            vkattn::ImageOutput out;
            out.image = image.image;
            out.format = format;
            out.usage = image.usage;
            out.flags = image.flags;
            out.width = W, out.height = H, out.layers = uint32_t(B);
            out.colour_map = map;
            // Powers of two, so that v * scale + bias rounds once however the kernel computes it;
            // the half format gets a scale that takes values past its largest, 65504.
            out.scale = format == VK_FORMAT_R16G16B16A16_SFLOAT ? 65536.f : 0.5f;
            out.bias = format == VK_FORMAT_R16G16B16A16_SFLOAT ? 0.f : 0.5f;
            const float nan_colour[4] = {0.25f, 0.5f, 0.75f, 1.f};
            std::copy(nan_colour, nan_colour + 4, out.nan_colour);
            vkattn::ExecutorOptions options;
            options.image_outputs = {{"y", out}};
            vkattn::Executor exec(ctx, scaled_graph(x.shape), options);
            exec.set_input("x", x);
            const VkDeviceSize bytes = VkDeviceSize(B) * H * W * vkattn::conformance::texel_bytes(format);
            test::AppBuffer readback(app, bytes);
            std::memset(readback.data, 0xff, bytes);  // NaN in every float format: an unwritten texel shows
            test::AppCommands commands(app);
            VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
            vkBeginCommandBuffer(commands.cmd, &begin);
            if (recorded) {
              exec.record(commands.cmd);
            } else {
              exec.run();  // on the same queue: the copy below is ordered after it by exec's exit barrier
            }
            image.record_copy(commands.cmd, readback.buffer, W, H, uint32_t(B));
            vkEndCommandBuffer(commands.cmd);
            commands.submit_and_wait(app.queue);
            const std::vector<float> y = exec.output("y").data;
            CHECK(vkattn::conformance::compare_texels(out, x.shape, y, reinterpret_cast<const unsigned char*>(readback.data)) ==
                  "");
          }
  for (const auto& m : app.messages) FAIL_CHECK("validation message: " << m);
}

TEST_CASE("image outputs: an image that cannot take the output is one sentence") {
  test::NoValidationMessages guard;
  test::AppDevice app;
  vkattn::Context ctx = vkattn::Context::adopt({app.instance, app.physical, app.device, app.queue, app.family});
  AppStorageImage image(app, VK_FORMAT_R8G8B8A8_UNORM, 8, 6, 2);
  const auto good = [&] {
    vkattn::ImageOutput out;
    out.image = image.image, out.usage = image.usage, out.width = 8, out.height = 6, out.layers = 2;
    return out;
  };
  const auto refused = [&](const vkattn::Shape& shape, const vkattn::ImageOutput& out, const char* sentence,
                           const char* name = "y") {
    vkattn::ExecutorOptions options;
    options.image_outputs = {{name, out}};
    CHECK_THROWS_WITH_AS(vkattn::Executor(ctx, scaled_graph(shape), options), doctest::Contains(sentence),
                         vkattn::Error);
  };
  CHECK_NOTHROW(vkattn::Executor(ctx, scaled_graph({2, 3, 6, 8}), [&] {
    vkattn::ExecutorOptions o;
    o.image_outputs = {{"y", good()}};
    return o;
  }()));
  refused({2, 3, 6, 8}, good(), "not an output of the graph", "x");
  using Change = std::function<void(vkattn::ImageOutput&)>;
  const std::vector<std::tuple<vkattn::Shape, Change, const char*>> cases = {
      {{2, 3, 6, 8}, [](auto& o) { o.usage = VK_IMAGE_USAGE_SAMPLED_BIT; }, "needs VK_IMAGE_USAGE_STORAGE_BIT"},
      {{2, 3, 6, 8}, [](auto& o) { o.format = VK_FORMAT_R8G8_UNORM; }, "must be R8G8B8A8_UNORM, R8G8B8A8_SRGB"},
      {{2, 3, 6, 8}, [](auto& o) { o.format = VK_FORMAT_R8G8B8A8_SRGB; }, "VK_IMAGE_CREATE_MUTABLE_FORMAT_BIT"},
      {{2, 3, 6, 9}, [](auto&) {}, "is 8 x 6 pixels, but the output is 9 x 6"},
      {{3, 3, 6, 8}, [](auto&) {}, "has 2 array layers, but the output has a batch of 3"},
      {{2, 2, 6, 8}, [](auto&) {}, "C = 1, 3 or 4"},
      {{2, 3, 48}, [](auto&) {}, "C = 1, 3 or 4"},
      {{2, 3, 6, 8}, [](auto& o) { o.colour_map = vkattn::ImageOutput::ColourMap::viridis; }, "a colour map takes one"},
      {{2, 3, 6, 8}, [](auto& o) { o.format = VK_FORMAT_R32_SFLOAT; }, "R32_SFLOAT, which holds one channel"},
      {{2, 3, 6, 8}, [](auto& o) { o.image = VK_NULL_HANDLE; }, "has no VkImage handle"},
      {{2, 3, 6, 8}, [](auto& o) { o.scale = NAN; }, "not a finite number"}};
  {  // one image for two outputs, or for an input and an output: their writes would race
    vkattn::Graph g = scaled_graph({2, 3, 6, 8});
    g.output("y2", g.outputs().at("y"));
    vkattn::ExecutorOptions options;
    options.image_outputs = {{"y", good()}, {"y2", good()}};
    CHECK_THROWS_WITH_AS(vkattn::Executor(ctx, g, options), doctest::Contains("give each image output an image of its own"),
                         vkattn::Error);
    vkattn::ImageOutput one_layer = good();
    one_layer.layers = 1;
    options.image_outputs = {{"y", one_layer}};
    options.images = {{"x", {image.image, VK_FORMAT_R8G8B8A8_UNORM, VK_IMAGE_LAYOUT_GENERAL, 8, 6}}};
    CHECK_THROWS_WITH_AS(vkattn::Executor(ctx, scaled_graph({1, 3, 6, 8}), options),
                         doctest::Contains("is also the image of input 'x'"), vkattn::Error);
  }
  for (const auto& [shape, change, sentence] : cases) {
    CAPTURE(sentence);
    vkattn::ImageOutput out = good();
    change(out);
    refused(shape, out, sentence);
  }
  for (const auto& m : app.messages) FAIL_CHECK("validation message: " << m);
}
