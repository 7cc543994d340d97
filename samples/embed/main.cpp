// embed: a headless renderer that runs a vkattn model on its own frames, on its own device.
//
// It is written the way a renderer is: it owns the instance, the device, the queue and the frame
// image. Each frame it renders a procedural scene with a graphics pipeline into an offscreen
// image, and in the same command buffer vkattn reads that image (no copy through host memory),
// runs the sample classifier (a self-attention CNN) and leaves the class scores and the
// attention map in its output buffers. The program writes each frame and the frame with the
// attention heatmap laid over it as PNGs.
//
//   embed [OUT_DIR]        (VKATTN_VALIDATION=1: validation layer on; any message: exit 3)
#include <vulkan/vulkan.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "exit_status.h"
#include "output_folder.h"
#include "command_line.h"
#include "heatmap.h"
#include "ranking.h"
#include "sample_files.h"
#include "scene.frag.spv.h"
#include "scene.vert.spv.h"
#include "validation.h"
#include "vkattn/vkattn.h"

namespace {

constexpr uint32_t kSize = 256;  // the frame is kSize x kSize RGBA8
constexpr VkFormat kFormat = VK_FORMAT_R8G8B8A8_UNORM;
void check(VkResult r, const char* what) {
  if (r != VK_SUCCESS) throw vkattn::Error(std::string("Vulkan failed at ") + what + " (VkResult " + std::to_string(r) + ").");
}

VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT, VkDebugUtilsMessageTypeFlagsEXT,
                               const VkDebugUtilsMessengerCallbackDataEXT* data, void*) {
  report_validation_message("embed", data->pMessage);
  return VK_FALSE;
}

uint32_t memory_type(VkPhysicalDevice gpu, uint32_t allowed, VkMemoryPropertyFlags want) {
  VkPhysicalDeviceMemoryProperties props;
  vkGetPhysicalDeviceMemoryProperties(gpu, &props);
  for (uint32_t i = 0; i < props.memoryTypeCount; ++i)
    if ((allowed >> i & 1) && (props.memoryTypes[i].propertyFlags & want) == want) return i;
  throw vkattn::Error("The device has no suitable memory type.");
}

VkShaderModule shader(VkDevice device, const uint32_t* code, size_t bytes) {
  VkShaderModuleCreateInfo info{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, nullptr, 0, bytes, code};
  VkShaderModule module;
  check(vkCreateShaderModule(device, &info, nullptr, &module), "vkCreateShaderModule");
  return module;
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

    // --- The frame: an offscreen colour image, and a host buffer to save it as PNG ------------
    VkImageCreateInfo image_info{VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO};
    image_info.imageType = VK_IMAGE_TYPE_2D;
    image_info.format = kFormat;
    image_info.extent = {kSize, kSize, 1};
    image_info.mipLevels = image_info.arrayLayers = 1;
    image_info.samples = VK_SAMPLE_COUNT_1_BIT;
    image_info.tiling = VK_IMAGE_TILING_OPTIMAL;
    // SAMPLED: vkattn reads it through a sampler. TRANSFER_SRC: this program copies it out.
    image_info.usage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT;
    VkImage frame;
    check(vkCreateImage(device, &image_info, nullptr, &frame), "vkCreateImage");
    VkMemoryRequirements needs;
    vkGetImageMemoryRequirements(device, frame, &needs);
    VkMemoryAllocateInfo mai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, nullptr, needs.size,
                             memory_type(gpu, needs.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT)};
    VkDeviceMemory frame_memory;
    check(vkAllocateMemory(device, &mai, nullptr, &frame_memory), "vkAllocateMemory");
    vkBindImageMemory(device, frame, frame_memory, 0);
    VkImageViewCreateInfo view_info{VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO, nullptr, 0, frame, VK_IMAGE_VIEW_TYPE_2D,
                                    kFormat, {}, {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
    VkImageView frame_view;
    check(vkCreateImageView(device, &view_info, nullptr, &frame_view), "vkCreateImageView");

    VkBufferCreateInfo readback_info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, nullptr, 0, VkDeviceSize(kSize) * kSize * 4,
                                     VK_BUFFER_USAGE_TRANSFER_DST_BIT};
    VkBuffer readback;
    check(vkCreateBuffer(device, &readback_info, nullptr, &readback), "vkCreateBuffer");
    vkGetBufferMemoryRequirements(device, readback, &needs);
    mai.allocationSize = needs.size;
    mai.memoryTypeIndex = memory_type(gpu, needs.memoryTypeBits,
                                      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
    VkDeviceMemory readback_memory;
    check(vkAllocateMemory(device, &mai, nullptr, &readback_memory), "vkAllocateMemory");
    vkBindBufferMemory(device, readback, readback_memory, 0);
    unsigned char* pixels = nullptr;
    vkMapMemory(device, readback_memory, 0, VK_WHOLE_SIZE, 0, reinterpret_cast<void**>(&pixels));

    // --- The render pass: clear, draw, and leave the frame in GENERAL for the readers after it -
    VkAttachmentDescription attachment{0, kFormat, VK_SAMPLE_COUNT_1_BIT, VK_ATTACHMENT_LOAD_OP_CLEAR,
                                       VK_ATTACHMENT_STORE_OP_STORE, VK_ATTACHMENT_LOAD_OP_DONT_CARE,
                                       VK_ATTACHMENT_STORE_OP_DONT_CARE, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_GENERAL};
    VkAttachmentReference colour_ref{0, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL};
    VkSubpassDescription subpass{0, VK_PIPELINE_BIND_POINT_GRAPHICS, 0, nullptr, 1, &colour_ref};
    // Sync: the colour writes (and the final layout transition) happen before the copy to the
    // host buffer and before vkattn's compute shaders sample the frame.
    VkSubpassDependency to_readers{0, VK_SUBPASS_EXTERNAL, VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
                                   VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                                   VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT, VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_SHADER_READ_BIT};
    // Sync: the previous frame's readers are done before this frame clears the image.
    VkSubpassDependency from_readers{VK_SUBPASS_EXTERNAL, 0,
                                     VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                                     VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT, 0,
                                     VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT};
    const VkSubpassDependency dependencies[] = {from_readers, to_readers};
    VkRenderPassCreateInfo rpci{VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO, nullptr, 0, 1, &attachment, 1, &subpass, 2,
                                dependencies};
    VkRenderPass render_pass;
    check(vkCreateRenderPass(device, &rpci, nullptr, &render_pass), "vkCreateRenderPass");
    VkFramebufferCreateInfo fci{VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO, nullptr, 0, render_pass, 1, &frame_view,
                                kSize, kSize, 1};
    VkFramebuffer framebuffer;
    check(vkCreateFramebuffer(device, &fci, nullptr, &framebuffer), "vkCreateFramebuffer");

    // --- The graphics pipeline: a full-frame triangle, the scene in the fragment shader --------
    const VkShaderModule vert = shader(device, scene_vert_spv, sizeof scene_vert_spv);
    const VkShaderModule frag = shader(device, scene_frag_spv, sizeof scene_frag_spv);
    const VkPipelineShaderStageCreateInfo stages[] = {
        {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, nullptr, 0, VK_SHADER_STAGE_VERTEX_BIT, vert, "main"},
        {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, nullptr, 0, VK_SHADER_STAGE_FRAGMENT_BIT, frag, "main"}};
    VkPipelineVertexInputStateCreateInfo vertex_input{VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO};
    VkPipelineInputAssemblyStateCreateInfo assembly{VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO, nullptr, 0,
                                                    VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST};
    VkViewport viewport{0, 0, float(kSize), float(kSize), 0, 1};
    VkRect2D scissor{{0, 0}, {kSize, kSize}};
    VkPipelineViewportStateCreateInfo viewport_state{VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO, nullptr, 0, 1,
                                                     &viewport, 1, &scissor};
    VkPipelineRasterizationStateCreateInfo raster{VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO};
    raster.cullMode = VK_CULL_MODE_NONE;
    raster.lineWidth = 1.f;
    VkPipelineMultisampleStateCreateInfo multisample{VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO};
    multisample.rasterizationSamples = VK_SAMPLE_COUNT_1_BIT;
    VkPipelineColorBlendAttachmentState blend{};
    blend.colorWriteMask = 0xf;
    VkPipelineColorBlendStateCreateInfo blend_state{VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO};
    blend_state.attachmentCount = 1;
    blend_state.pAttachments = &blend;
    struct ScenePush {
      uint32_t scene;
      float time;
    };
    VkPushConstantRange push_range{VK_SHADER_STAGE_FRAGMENT_BIT, 0, sizeof(ScenePush)};
    VkPipelineLayoutCreateInfo plci{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO, nullptr, 0, 0, nullptr, 1, &push_range};
    VkPipelineLayout pipeline_layout;
    check(vkCreatePipelineLayout(device, &plci, nullptr, &pipeline_layout), "vkCreatePipelineLayout");
    VkGraphicsPipelineCreateInfo gpci{VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO};
    gpci.stageCount = 2;
    gpci.pStages = stages;
    gpci.pVertexInputState = &vertex_input;
    gpci.pInputAssemblyState = &assembly;
    gpci.pViewportState = &viewport_state;
    gpci.pRasterizationState = &raster;
    gpci.pMultisampleState = &multisample;
    gpci.pColorBlendState = &blend_state;
    gpci.layout = pipeline_layout;
    gpci.renderPass = render_pass;
    VkPipeline pipeline;
    check(vkCreateGraphicsPipelines(device, VK_NULL_HANDLE, 1, &gpci, nullptr, &pipeline), "vkCreateGraphicsPipelines");

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

    {
      // --- vkattn on the renderer's device: the classifier reads the frame image itself -------
      vkattn::Context ctx = vkattn::Context::adopt({instance, gpu, device, queue, family});
      const auto net = vkattn::Network::from_safetensors(vkattn::load_safetensors(sample_file("fashion_sagan.safetensors")));
      vkattn::Graph graph;
      const auto model = net.build(graph, graph.input("frame", {1, 1, 28, 28}), true);
      graph.output("scores", model.output);
      graph.output("attention", model.attention.front().second);
      vkattn::ExecutorOptions options;
      // The model takes grey pixel/255: luminance of the unorm frame, mean 0, std 1. The frame is
      // in GENERAL whenever vkattn runs (the render pass leaves it there).
      options.images["frame"] = {frame, kFormat, VK_IMAGE_LAYOUT_GENERAL, kSize, kSize};
      vkattn::Executor classifier(ctx, graph, options);
      std::printf("device: %s; model: %s\n", ctx.device().name.c_str(), sample_file("fashion_sagan.safetensors").c_str());

      const char* names[] = {"handbag", "trousers"};
      for (uint32_t scene = 0; scene < 2; ++scene) {
        // --- One frame: render, copy out for the PNG, classify; one command buffer, one submit
        vkResetCommandBuffer(cmd, 0);
        VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO, nullptr,
                                       VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
        vkBeginCommandBuffer(cmd, &begin);
        VkClearValue clear{};
        VkRenderPassBeginInfo rpbi{VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO, nullptr, render_pass, framebuffer, scissor, 1,
                                   &clear};
        vkCmdBeginRenderPass(cmd, &rpbi, VK_SUBPASS_CONTENTS_INLINE);
        vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipeline);
        const ScenePush push{scene, 0.7f + scene};
        vkCmdPushConstants(cmd, pipeline_layout, VK_SHADER_STAGE_FRAGMENT_BIT, 0, sizeof push, &push);
        vkCmdDraw(cmd, 3, 1, 0, 0);
        vkCmdEndRenderPass(cmd);  // the subpass dependency orders this before the copy and vkattn

        VkBufferImageCopy region{};
        region.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
        region.imageExtent = {kSize, kSize, 1};
        vkCmdCopyImageToBuffer(cmd, frame, VK_IMAGE_LAYOUT_GENERAL, readback, 1, &region);
        // Sync: the copy's writes are visible to the host once the fence signals.
        VkMemoryBarrier to_host{VK_STRUCTURE_TYPE_MEMORY_BARRIER, nullptr, VK_ACCESS_TRANSFER_WRITE_BIT, VK_ACCESS_HOST_READ_BIT};
        vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &to_host, 0, nullptr, 0,
                             nullptr);

        // vkattn records its own barriers: on entry from every earlier write (the render pass),
        // on exit to every later reader (here the host, after the fence).
        classifier.record(cmd);
        vkEndCommandBuffer(cmd);
        VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
        submit.commandBufferCount = 1;
        submit.pCommandBuffers = &cmd;
        check(vkQueueSubmit(queue, 1, &submit, fence), "vkQueueSubmit");
        // Sync: the host waits for the whole frame, then reads the PNG pixels and vkattn's outputs.
        check(vkWaitForFences(device, 1, &fence, VK_TRUE, UINT64_MAX), "vkWaitForFences");
        vkResetFences(device, 1, &fence);

        const auto scores = classifier.output("scores"), attention = classifier.output("attention");
        const Ranked ranked = rank_classes(scores.data.data(), scores.data.size());

        // The frame as RGB, and the attention each of the 14x14 positions receives, averaged
        // over all query positions.
        std::vector<unsigned char> rgb(size_t(kSize) * kSize * 3);
        std::vector<float> rgb_f(rgb.size());
        for (size_t i = 0; i < size_t(kSize) * kSize; ++i)
          for (int k = 0; k < 3; ++k) rgb[i * 3 + k] = pixels[i * 4 + k], rgb_f[i * 3 + k] = pixels[i * 4 + k] / 255.f;
        const size_t N = attention.shape[1];
        const int side = int(std::lround(std::sqrt(double(N))));
        const std::vector<float> heat = mean_attention_received(attention.data.data(), N);
        const std::string stem = (std::filesystem::path(out) / names[scene]).string();
        write_png(stem + ".png", rgb, kSize, kSize);
        write_png(stem + "_attention.png", overlay_heatmap(rgb_f, kSize, kSize, heat, side, side), kSize, kSize);
        std::printf("frame %u (%s): ", scene, names[scene]);
        for (size_t r = 0; r < 3; ++r)
          std::printf("%s%s %.1f%%", r ? ", " : "", net.labels().at(ranked.order[r]).c_str(),
                      100 * ranked.probability[ranked.order[r]]);
        std::printf("\n  wrote %s.png and %s_attention.png (mean attention per 2x2-pixel patch of the 28x28 input)\n",
                    stem.c_str(), stem.c_str());
      }
    }  // vkattn's objects are gone; the renderer's remain its own to destroy

    vkDestroyFence(device, fence, nullptr);
    vkDestroyCommandPool(device, pool, nullptr);
    vkDestroyPipeline(device, pipeline, nullptr);
    vkDestroyPipelineLayout(device, pipeline_layout, nullptr);
    vkDestroyShaderModule(device, vert, nullptr);
    vkDestroyShaderModule(device, frag, nullptr);
    vkDestroyFramebuffer(device, framebuffer, nullptr);
    vkDestroyRenderPass(device, render_pass, nullptr);
    vkDestroyBuffer(device, readback, nullptr);
    vkFreeMemory(device, readback_memory, nullptr);
    vkDestroyImageView(device, frame_view, nullptr);
    vkDestroyImage(device, frame, nullptr);
    vkFreeMemory(device, frame_memory, nullptr);
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
