// Device faults become vkattn errors with a sentence: running out of device memory (provoked with
// a memory budget) leaves the Context usable for smaller work, and after a lost device every
// executor refuses work while the application's own device lives on.
#include "app_device.h"
#include "context_impl.h"
#include "gpu.h"
#include "vulkan_call.h"

using test::block_graph;

TEST_CASE("out of device memory: a budget refuses a large graph early, and a smaller one then runs") {
  test::NoValidationMessages quiet;
  vkattn::ContextOptions options = test::validated_options();
  options.memory_budget = 4 << 20;
  vkattn::Context ctx = vkattn::Context::create(options);
  const auto w = test::random_weights(16, 2);

  // (8, 16, 64, 64): input and output alone take 2 x 2 MiB, the intermediates more.
  CHECK_THROWS_WITH_AS(vkattn::Executor(ctx, block_graph(w, {8, 16, 64, 64})),
                       doctest::Contains("would pass the memory budget of 4 MiB"), vkattn::DeviceLimitError);
  CHECK(ctx.impl().heap_used == std::vector<uint64_t>(ctx.impl().heap_used.size(), 0));  // all given back

  const vkattn::HostTensor x = test::random_tensor({1, 16, 9, 7});
  vkattn::Executor exec(ctx, block_graph(w, x.shape));
  exec.fill_outputs(NAN);
  exec.set_input("x", x);
  exec.run();
  vkattn::Executor reference(test::gpu(), block_graph(w, x.shape));
  reference.set_input("x", x);
  reference.run();
  CHECK(exec.output("y").data == reference.output("y").data);
}

TEST_CASE("a Vulkan error becomes one vkattn error sentence") {
  CHECK_THROWS_WITH_AS(vkattn::vulkan_call("running a test", []() -> int { throw vk::OutOfDeviceMemoryError("x"); }),
                       "The GPU ran out of device memory while running a test; try a smaller batch or image.",
                       vkattn::DeviceLimitError);
  CHECK_THROWS_WITH_AS(vkattn::vulkan_call("running a test", []() -> int { throw vk::OutOfHostMemoryError("x"); }),
                       "The host ran out of memory while running a test.", vkattn::Error);
  CHECK_THROWS_AS(vkattn::vulkan_call("running a test", []() -> int { throw vk::DeviceLostError("x"); }),
                  vkattn::DeviceLostError);
}

TEST_CASE("after a lost device every executor call is refused, and the application's device lives on") {
  test::AppDevice app;
  {
    vkattn::AdoptedDevice handles;
    handles.instance = app.instance;
    handles.physical_device = app.physical;
    handles.device = app.device;
    handles.queue = app.queue;
    handles.queue_family = app.family;
    vkattn::Context ctx = vkattn::Context::adopt(handles);
    const auto w = test::random_weights(8, 2);
    const vkattn::HostTensor x = test::random_tensor({1, 8, 5, 5});
    vkattn::Executor exec(ctx, block_graph(w, x.shape));
    exec.set_input("x", x);
    exec.run();
    // lavapipe cannot lose its device on demand; this is the flag a DeviceLostError from any
    // Vulkan call of the executor sets.
    ctx.impl().device_lost = true;
    for (const auto& call : std::vector<std::function<void()>>{
             [&] { exec.run(); }, [&] { exec.set_input("x", x); }, [&] { (void)exec.output("y"); },
             [&] { vkattn::Executor again(ctx, block_graph(w, x.shape)); }})
      CHECK_THROWS_WITH_AS(call(), doctest::Contains("was lost"), vkattn::DeviceLostError);
  }
  // vkattn released the adopted device without destroying it.
  CHECK(vkDeviceWaitIdle(app.device) == VK_SUCCESS);
  for (const auto& m : app.messages) FAIL_CHECK("validation message: " << m);
}
