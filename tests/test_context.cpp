// Device selection, and adopting a Vulkan device that the application made and still owns.
#include <cstdlib>

#include "gpu.h"

namespace {

VkBool32 VKAPI_CALL collect(VkDebugUtilsMessageSeverityFlagBitsEXT, VkDebugUtilsMessageTypeFlagsEXT,
                            const VkDebugUtilsMessengerCallbackDataEXT* data, void* user) {
  static_cast<std::vector<std::string>*>(user)->push_back(data->pMessage);
  return VK_FALSE;
}

// What an application does before it hands its device to vkattn: instance (with validation),
// physical device, a device with one compute queue.
struct AppDevice {
  VkInstance instance = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger = VK_NULL_HANDLE;
  VkPhysicalDevice physical = VK_NULL_HANDLE;
  VkDevice device = VK_NULL_HANDLE;
  VkQueue queue = VK_NULL_HANDLE;
  uint32_t family = 0;
  std::vector<std::string> messages;

  AppDevice() {
    VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO, nullptr, "app", 1, "app", 1, VK_API_VERSION_1_1};
    const char* layers[] = {"VK_LAYER_KHRONOS_validation"};
    const char* extensions[] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME, VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME};
    VkValidationFeatureEnableEXT sync = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
    VkValidationFeaturesEXT features{VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT, nullptr, 1, &sync, 0, nullptr};
    VkInstanceCreateInfo ici{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, &features, 0, &app, 1, layers, 2, extensions};
    REQUIRE(vkCreateInstance(&ici, nullptr, &instance) == VK_SUCCESS);
    VkDebugUtilsMessengerCreateInfoEXT mci{};
    mci.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT;
    mci.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    mci.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                      VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
    mci.pfnUserCallback = collect;
    mci.pUserData = &messages;
    auto create_messenger = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance, "vkCreateDebugUtilsMessengerEXT"));
    REQUIRE(create_messenger(instance, &mci, nullptr, &messenger) == VK_SUCCESS);
    uint32_t count = 1;
    vkEnumeratePhysicalDevices(instance, &count, &physical);
    REQUIRE(count >= 1);
    uint32_t families = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(physical, &families, nullptr);
    std::vector<VkQueueFamilyProperties> props(families);
    vkGetPhysicalDeviceQueueFamilyProperties(physical, &families, props.data());
    while (!(props[family].queueFlags & VK_QUEUE_COMPUTE_BIT)) ++family;
    const float priority = 1.f;
    VkDeviceQueueCreateInfo qci{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, nullptr, 0, family, 1, &priority};
    VkDeviceCreateInfo dci{};
    dci.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
    dci.queueCreateInfoCount = 1;
    dci.pQueueCreateInfos = &qci;
    REQUIRE(vkCreateDevice(physical, &dci, nullptr, &device) == VK_SUCCESS);
    vkGetDeviceQueue(device, family, 0, &queue);
  }

  ~AppDevice() {
    vkDestroyDevice(device, nullptr);
    reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(vkGetInstanceProcAddr(instance, "vkDestroyDebugUtilsMessengerEXT"))(
        instance, messenger, nullptr);
    vkDestroyInstance(instance, nullptr);
  }
};

vkattn::HostTensor run_block(vkattn::Context& ctx, const vkattn::SelfAttentionWeights& w, const vkattn::HostTensor& x) {
  vkattn::Graph g;
  g.output("y", vkattn::add_self_attention(g, g.input("x", x.shape), w).y);
  vkattn::Executor exec(ctx, g);
  exec.set_input("x", x);
  exec.run();
  return exec.output("y");
}

}  // namespace

TEST_CASE("device selection by index, by name and by VKATTN_DEVICE") {
  const auto devices = vkattn::Context::list_devices();
  REQUIRE(!devices.empty());
  auto options = test::validated_options();
  options.device = std::to_string(0);
  CHECK(vkattn::Context::create(options).device().index == 0);
  options.device = devices[0].name.substr(0, 4);  // part of the name, any case
  for (char& c : options.device) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(vkattn::Context::create(options).device().name == devices[0].name);
  options.device = "no such device anywhere";
  CHECK_THROWS_WITH_AS(vkattn::Context::create(options), doctest::Contains("matches none"), vkattn::Error);
  options.device.clear();
  setenv("VKATTN_DEVICE", "no such device anywhere", 1);
  CHECK_THROWS_AS(vkattn::Context::create(options), vkattn::Error);
  unsetenv("VKATTN_DEVICE");
}

TEST_CASE("an adopted application device gives bit-identical results and is left alive") {
  test::NoValidationMessages guard;
  const auto w = test::random_weights(12, 3);
  const auto x = test::random_tensor({2, 12, 9, 7});
  const auto own = run_block(test::gpu(), w, x);

  AppDevice app;
  {
    vkattn::Context ctx = vkattn::Context::adopt({app.instance, app.physical, app.device, app.queue, app.family});
    CHECK(ctx.adopted());
    CHECK(run_block(ctx, w, x).data == own.data);
  }
  // vkattn is gone; the application's device must still work, and be destroyed once, by the app.
  VkBufferCreateInfo bci{};
  bci.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
  bci.size = 256;
  bci.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
  VkBuffer buffer = VK_NULL_HANDLE;
  CHECK(vkCreateBuffer(app.device, &bci, nullptr, &buffer) == VK_SUCCESS);
  vkDestroyBuffer(app.device, buffer, nullptr);
  CHECK(vkDeviceWaitIdle(app.device) == VK_SUCCESS);
  for (const auto& m : app.messages) FAIL_CHECK("validation message: " << m);
}

TEST_CASE("adopting refuses missing handles") {
  CHECK_THROWS_AS(vkattn::Context::adopt({}), vkattn::Error);
}
