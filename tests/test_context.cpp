// Device selection, and adopting a Vulkan device that the application made and still owns.
#include <cstdlib>

#include "app_device.h"
#include "gpu.h"

namespace {

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

  test::AppDevice app;
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
