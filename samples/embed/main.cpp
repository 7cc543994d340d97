// embed: a headless renderer that runs vkattn models on its own device, inside its own frames.
//
// It is written the way a renderer is: it owns the instance, the device, the queue and the images.
// Each frame, in one command buffer: a graphics pass renders a procedural scene into the frame
// image; vkattn reads that image (no copy through host memory), runs the sample classifier (a
// self-attention CNN) and writes the attention heatmap into a texture of the renderer's; vkattn
// runs the sample generator (a self-attention GAN) on fresh noise and writes its pictures into
// the layers of another texture; a second graphics pass composites the heatmap over the frame and
// draws the pictures in a grid below it. Only the class scores and the finished picture come
// back to the host, for the printout and the PNGs.
//
//   embed [OUT_DIR]        (VKATTN_VALIDATION=1: validation layer on; any message: exit 3)
#include <vulkan/vulkan.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "command_line.h"
#include "composite.h"
#include "exit_status.h"
#include "fullscreen_pass.h"
#include "gpu_image.h"
#include "heatmap.h"
#include "noise.h"
#include "output_folder.h"
#include "ranking.h"
#include "sample_files.h"
#include "scene.frag.spv.h"
#include "validation.h"
#include "vkattn/vkattn.h"

namespace {

constexpr uint32_t kSize = 256;               // the frame is kSize x kSize RGBA8
constexpr uint32_t kColumns = 4, kRows = 2;   // the generator's pictures below it
constexpr uint32_t kGalleryHeight = kSize / kColumns * kRows;
constexpr VkFormat kFormat = VK_FORMAT_R8G8B8A8_UNORM;

VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT, VkDebugUtilsMessageTypeFlagsEXT,
                               const VkDebugUtilsMessengerCallbackDataEXT* data, void*) {
  report_validation_message("embed", data->pMessage);
  return VK_FALSE;
}

// The RGB bytes of an RGBA8 picture.
std::vector<unsigned char> rgb_of(const unsigned char* rgba, size_t pixels) {
  std::vector<unsigned char> rgb(pixels * 3);
  for (size_t i = 0; i < pixels; ++i)
    for (int k = 0; k < 3; ++k) rgb[i * 3 + k] = rgba[i * 4 + k];
  return rgb;
}

// Records a copy of a one-layer image (in `layout`) into a host buffer, visible to the host after
// the submission's fence.
void record_readback(VkCommandBuffer cmd, const GpuImage& image, VkImageLayout layout, const HostBuffer& to) {
  VkBufferImageCopy region{};
  region.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
  region.imageExtent = {image.width, image.height, 1};
  vkCmdCopyImageToBuffer(cmd, image.image, layout, to.buffer, 1, &region);
  VkMemoryBarrier to_host{VK_STRUCTURE_TYPE_MEMORY_BARRIER, nullptr, VK_ACCESS_TRANSFER_WRITE_BIT, VK_ACCESS_HOST_READ_BIT};
  vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &to_host, 0, nullptr, 0,
                       nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli("embed: a headless renderer that classifies its own frames with vkattn, on its own Vulkan device, "
               "and writes each frame and its attention overlay as PNG.",
               "embed");
  cli.set_version_flag("--version", version_line("embed"));
  cli.footer("VKATTN_VALIDATION=1 turns on the Khronos validation layer; any message makes the run fail (exit 3).");
  std::string out = ".";
  cli.add_option("out_dir", out, "Folder for the PNGs (default: the current one; made if missing)");
  if (const int rc = parse_command_line(cli, argc, argv); rc >= 0) return rc;
  vkattn::remove_temp_outputs_on_signals();
  try {
    make_output_folder(out);
    const bool validation = validation_requested();

    // --- The renderer's own instance, device and queue ----------------------------------------
    VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO, nullptr, "embed", 1, "none", 1, VK_API_VERSION_1_1};
    const char* layer = "VK_LAYER_KHRONOS_validation";
    const char* extensions[] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME, VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME};
    VkValidationFeatureEnableEXT sync_validation = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
    VkValidationFeaturesEXT features{VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT, nullptr, 1, &sync_validation};
    VkInstanceCreateInfo ici{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, validation ? &features : nullptr, 0, &app,
                             validation ? 1u : 0u, &layer, validation ? 2u : 0u, extensions};
    VkInstance instance;
    if (vkCreateInstance(&ici, nullptr, &instance) != VK_SUCCESS)
      throw vkattn::Error("No Vulkan driver could create an instance (install mesa-vulkan-drivers for lavapipe).");
    VkDebugUtilsMessengerEXT messenger = VK_NULL_HANDLE;
    if (validation) {
      VkDebugUtilsMessengerCreateInfoEXT mci{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
      mci.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
      mci.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT;
      mci.pfnUserCallback = on_message;
      auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
          vkGetInstanceProcAddr(instance, "vkCreateDebugUtilsMessengerEXT"));
      check(create(instance, &mci, nullptr, &messenger), "vkCreateDebugUtilsMessengerEXT");
    }
    uint32_t count = 1;
    VkPhysicalDevice gpu = VK_NULL_HANDLE;
    vkEnumeratePhysicalDevices(instance, &count, &gpu);
    if (!gpu) throw vkattn::Error("No Vulkan device was found.");
    uint32_t families = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(gpu, &families, nullptr);
    std::vector<VkQueueFamilyProperties> family_props(families);
    vkGetPhysicalDeviceQueueFamilyProperties(gpu, &families, family_props.data());
    uint32_t family = 0;
    const VkQueueFlags need = VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT;
    while (family < families && (family_props[family].queueFlags & need) != need) ++family;
    if (family == families) throw vkattn::Error("The device has no queue for both graphics and compute.");
    const float priority = 1.f;
    VkDeviceQueueCreateInfo qci{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, nullptr, 0, family, 1, &priority};
    VkDeviceCreateInfo dci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, nullptr, 0, 1, &qci};
    VkDevice device;
    check(vkCreateDevice(gpu, &dci, nullptr, &device), "vkCreateDevice");
    VkQueue queue;
    vkGetDeviceQueue(device, family, 0, &queue);

    {  // the renderer's objects, destroyed before its device
      // --- The renderer's images ------------------------------------------------------------
      // The frame: drawn, sampled by vkattn and by the composite pass, copied out for a PNG.
      GpuImage frame(device, gpu, kFormat, kSize, kSize, 1,
                     VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT, false);
      // vkattn's outputs as textures: STORAGE for vkattn's writes, SAMPLED for the composite pass.
      GpuImage heat(device, gpu, kFormat, kSize, kSize, 1, VK_IMAGE_USAGE_STORAGE_BIT | VK_IMAGE_USAGE_SAMPLED_BIT, false);
      GpuImage gallery(device, gpu, kFormat, 28, 28, kColumns * kRows,
                       VK_IMAGE_USAGE_STORAGE_BIT | VK_IMAGE_USAGE_SAMPLED_BIT, true);
      GpuImage picture(device, gpu, kFormat, kSize, kSize + kGalleryHeight, 1,
                       VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT, false);
      HostBuffer frame_pixels(device, gpu, VkDeviceSize(kSize) * kSize * 4, VK_BUFFER_USAGE_TRANSFER_DST_BIT);
      HostBuffer picture_pixels(device, gpu, VkDeviceSize(kSize) * (kSize + kGalleryHeight) * 4,
                                VK_BUFFER_USAGE_TRANSFER_DST_BIT);

      // --- The scene pass: clear, draw, and leave the frame in GENERAL for the readers after it --
      struct ScenePush {
        uint32_t scene;
        float time;
      };
      PassSpec scene_spec;
      scene_spec.target = &frame;
      scene_spec.fragment = scene_frag_spv;
      scene_spec.push_bytes = sizeof(ScenePush);
      const VkPipelineStageFlags readers =
          VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT;
      // Sync: the previous frame's readers (the copy, vkattn, the composite pass) are done before
      // this frame clears the image; the colour writes (and the final layout transition) happen
      // before this frame's readers.
      scene_spec.dependencies = {
          {VK_SUBPASS_EXTERNAL, 0, readers, VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT, 0,
           VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT, 0},
          {0, VK_SUBPASS_EXTERNAL, VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT, readers,
           VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT, VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_SHADER_READ_BIT, 0}};
      const FullscreenPass scene_pass(device, scene_spec);
      const Composite composite(device, picture, frame, heat, gallery, float(kSize) / float(kSize + kGalleryHeight),
                                kColumns, kRows);

      VkCommandPoolCreateInfo cpci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO, nullptr,
                                   VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT, family};
      VkCommandPool pool;
      check(vkCreateCommandPool(device, &cpci, nullptr, &pool), "vkCreateCommandPool");
      VkCommandBufferAllocateInfo cbai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, nullptr, pool,
                                       VK_COMMAND_BUFFER_LEVEL_PRIMARY, 1};
      VkCommandBuffer cmd;
      check(vkAllocateCommandBuffers(device, &cbai, &cmd), "vkAllocateCommandBuffers");
      VkFenceCreateInfo fence_info{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
      VkFence fence;
      check(vkCreateFence(device, &fence_info, nullptr, &fence), "vkCreateFence");
      const auto submit_and_wait = [&] {
        VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
        submit.commandBufferCount = 1;
        submit.pCommandBuffers = &cmd;
        check(vkQueueSubmit(queue, 1, &submit, fence), "vkQueueSubmit");
        // Sync: the host waits for the whole frame, then reads the PNG pixels and vkattn's outputs.
        check(vkWaitForFences(device, 1, &fence, VK_TRUE, UINT64_MAX), "vkWaitForFences");
        vkResetFences(device, 1, &fence);
      };
      const VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO, nullptr,
                                           VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};

      // vkattn's textures live in GENERAL, where vkattn writes them and the composite pass reads them.
      vkBeginCommandBuffer(cmd, &begin);
      VkImageMemoryBarrier to_general[2] = {};
      for (int i = 0; i < 2; ++i) {
        to_general[i] = {VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER};
        to_general[i].oldLayout = VK_IMAGE_LAYOUT_UNDEFINED;
        to_general[i].newLayout = VK_IMAGE_LAYOUT_GENERAL;
        to_general[i].srcQueueFamilyIndex = to_general[i].dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
        to_general[i].image = i ? gallery.image : heat.image;
        to_general[i].subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, i ? gallery.layers : 1};
      }
      vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, 0, 0, nullptr, 0,
                           nullptr, 2, to_general);
      vkEndCommandBuffer(cmd);
      submit_and_wait();

      {
        vkattn::Context ctx = vkattn::Context::adopt({instance, gpu, device, queue, family});
        // --- The classifier reads the frame image and writes the heatmap texture ----------------
        const std::string classifier_file = sample_file("fashion_sagan.safetensors");
        const auto net = vkattn::Network::from_safetensors(vkattn::load_safetensors(classifier_file));
        vkattn::Graph graph;
        const auto model = net.build(graph, graph.input("frame", {1, 1, 28, 28}), true);
        graph.output("scores", model.output);
        if (model.attention.empty()) throw vkattn::Error("The classifier has no self-attention layer to draw a heatmap from.");
        graph.output("heat", vkattn::ops::attention_heatmap(graph, model.attention.front().second, {14, 14}, {kSize, kSize}));
        vkattn::ExecutorOptions options;
        // The model takes grey pixel/255: luminance of the unorm frame, mean 0, std 1. The frame is
        // in GENERAL whenever vkattn runs (the scene pass leaves it there).
        options.images["frame"] = {frame.image, kFormat, VK_IMAGE_LAYOUT_GENERAL, kSize, kSize};
        vkattn::ImageOutput heat_out;
        heat_out.image = heat.image;
        heat_out.usage = VK_IMAGE_USAGE_STORAGE_BIT | VK_IMAGE_USAGE_SAMPLED_BIT;
        heat_out.width = heat_out.height = kSize;
        heat_out.colour_map = vkattn::ImageOutput::ColourMap::viridis;
        options.image_outputs["heat"] = heat_out;
        vkattn::Executor classifier(ctx, graph, options);

        // --- The generator writes its pictures into the gallery's layers ------------------------
        const std::string generator_file = sample_file("fashion_gan.safetensors");
        const auto gan = vkattn::Network::from_safetensors(vkattn::load_safetensors(generator_file));
        vkattn::Graph gan_graph;
        const auto gan_inputs = gan.add_inputs(gan_graph, gallery.layers);
        const std::string noise_name = gan_inputs.begin()->first;
        gan_graph.output("pictures", gan.build(gan_graph, gan_inputs).output);
        vkattn::ImageOutput pictures_out;
        pictures_out.image = gallery.image;
        pictures_out.usage = VK_IMAGE_USAGE_STORAGE_BIT | VK_IMAGE_USAGE_SAMPLED_BIT;
        pictures_out.width = pictures_out.height = 28;
        pictures_out.layers = gallery.layers;
        pictures_out.scale = pictures_out.bias = 0.5f;  // tanh's [-1, 1] to [0, 1]
        vkattn::ExecutorOptions gan_options;
        gan_options.image_outputs["pictures"] = pictures_out;
        vkattn::Executor generator(ctx, gan_graph, gan_options);
        const vkattn::Shape noise_shape = gan_graph.shape(gan_graph.inputs().at(noise_name));
        std::printf("device: %s; models: %s, %s\n", ctx.device().name.c_str(), classifier_file.c_str(),
                    generator_file.c_str());

        const char* names[] = {"handbag", "trousers"};
        for (uint32_t scene = 0; scene < 2; ++scene) {
          generator.set_input(noise_name, {noise_shape, normal_noise(scene, size_t(noise_shape[0]), size_t(noise_shape[1]))});
          // --- One frame, one command buffer, one submit: render, classify, generate, composite
          vkResetCommandBuffer(cmd, 0);
          vkBeginCommandBuffer(cmd, &begin);
          const ScenePush push{scene, 0.7f + scene};
          scene_pass.record(cmd, &push);
          record_readback(cmd, frame, VK_IMAGE_LAYOUT_GENERAL, frame_pixels);
          // vkattn records its own barriers: on entry from every earlier command (the scene pass,
          // the last frame's composite pass reading its textures), on exit to every later one.
          classifier.record(cmd);
          generator.record(cmd);
          composite.record(cmd);
          record_readback(cmd, picture, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, picture_pixels);
          vkEndCommandBuffer(cmd);
          submit_and_wait();

          const auto scores = classifier.output("scores");
          const Ranked ranked = rank_classes(scores.data.data(), scores.data.size());
          const std::string stem = (std::filesystem::path(out) / names[scene]).string();
          write_png(stem + ".png", rgb_of(frame_pixels.data, size_t(kSize) * kSize), kSize, kSize);
          write_png(stem + "_composite.png", rgb_of(picture_pixels.data, size_t(kSize) * (kSize + kGalleryHeight)), kSize,
                    kSize + kGalleryHeight);
          std::printf("frame %u (%s): ", scene, names[scene]);
          for (size_t r = 0; r < 3; ++r)
            std::printf("%s%s %.1f%%", r ? ", " : "", net.labels().at(ranked.order[r]).c_str(),
                        100 * ranked.probability[ranked.order[r]]);
          std::printf("\n  wrote %s.png (the frame) and %s_composite.png (attention over it, generated pictures "
                      "below, composited on the device)\n",
                      stem.c_str(), stem.c_str());
        }
      }  // vkattn's objects are gone; the renderer's remain its own to destroy

      vkDestroyFence(device, fence, nullptr);
      vkDestroyCommandPool(device, pool, nullptr);
    }  // the renderer's images and passes, before their device
    vkDestroyDevice(device, nullptr);
    if (messenger)
      reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(vkGetInstanceProcAddr(instance, "vkDestroyDebugUtilsMessengerEXT"))(
          instance, messenger, nullptr);
    vkDestroyInstance(instance, nullptr);
    return exit_code(finish_stdout(0, "embed"), "embed");
  } catch (const std::exception& e) {
    report_exception(e, "embed");
    return 1;
  }
}
