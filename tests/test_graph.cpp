// Graph building, memory planning by liveness, barrier placement, pipeline reuse, device limits.
#include "context_impl.h"
#include "gpu.h"
#include "liveness.h"

TEST_CASE("liveness: tensors whose lifetimes do not overlap share a buffer") {
  // a: nodes 0-1, b: 1-2, c: 2-3, d: 3-4. a and c may share; b and d may share.
  const auto plan = vkattn::plan_slots({{100, 0, 1}, {50, 1, 2}, {80, 2, 3}, {60, 3, 4}});
  REQUIRE(plan.slot_bytes.size() == 2);
  CHECK(plan.slot_of[0] == plan.slot_of[2]);
  CHECK(plan.slot_of[1] == plan.slot_of[3]);
  CHECK(plan.slot_of[0] != plan.slot_of[1]);
  CHECK(plan.slot_bytes[plan.slot_of[0]] == 100);
  CHECK(plan.slot_bytes[plan.slot_of[1]] == 60);
}

TEST_CASE("liveness: a node's input and output never share, and best fit is chosen") {
  // x is read by node 2, which writes y: both live at node 2.
  auto plan = vkattn::plan_slots({{10, 0, 2}, {10, 2, 3}});
  CHECK(plan.slot_of[0] != plan.slot_of[1]);
  // Two free buffers of 100 and 20 bytes: a 15-byte tensor takes the 20-byte one.
  plan = vkattn::plan_slots({{100, 0, 1}, {20, 0, 1}, {15, 2, 3}});
  CHECK(plan.slot_of[2] == plan.slot_of[1]);
  CHECK(plan.slot_bytes.size() == 2);
}

TEST_CASE("the block's executor shares memory, places four barriers and reuses pipelines") {
  test::NoValidationMessages guard;
  const auto w = test::random_weights(8, 2);
  vkattn::Graph g;
  g.output("y", vkattn::add_self_attention(g, g.input("x", {1, 8, 16, 16}), w).y);
  vkattn::Executor first(test::gpu(), g);
  const auto& plan = first.memory_plan();
  // qkv, scores, attention, out: scores and out are never alive together, so they share.
  CHECK(plan.intermediate_bytes < plan.unshared_bytes);
  CHECK(plan.dispatches == 5);
  CHECK(plan.barriers == 4);  // each node reads what the one before it wrote
  const size_t pipelines = test::gpu().impl().kernels.size();
  vkattn::Executor second(test::gpu(), g);
  CHECK(test::gpu().impl().kernels.size() == pipelines);
}

TEST_CASE("independent nodes are recorded without a barrier between them") {
  test::NoValidationMessages guard;
  vkattn::Graph g;
  const auto a = g.input("a", {1, 4, 300}), b = g.input("b", {1, 4, 300});
  g.output("sa", vkattn::ops::softmax(g, a));
  g.output("sb", vkattn::ops::softmax(g, b));
  vkattn::Executor exec(test::gpu(), g);
  CHECK(exec.memory_plan().barriers == 0);
}

TEST_CASE("bad graphs and inputs get clear errors") {
  vkattn::Graph g;
  const auto x = g.input("x", {1, 2, 3, 3});
  CHECK_THROWS_AS(g.input("x", {1}), vkattn::Error);
  CHECK_THROWS_AS(g.output("y", 99), vkattn::Error);
  CHECK_THROWS_AS(g.input("zero", {1, 0, 3}), vkattn::Error);
  CHECK_THROWS_AS(g.weight("w", {{2, 2}, {1.f, 2.f, 3.f}}), vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::Executor(test::gpu(), g), doctest::Contains("no outputs"), vkattn::Error);
  g.output("s", vkattn::ops::softmax(g, x));
  vkattn::Executor exec(test::gpu(), g);
  CHECK_THROWS_WITH_AS(exec.set_input("x", test::random_tensor({1, 2, 3, 4})), doctest::Contains("shape"), vkattn::Error);
  CHECK_THROWS_AS(exec.set_input("nope", test::random_tensor({1})), vkattn::Error);
  CHECK_THROWS_AS(exec.output("s"), vkattn::Error);  // before any run
}

TEST_CASE("a map larger than the device's storage-buffer range is refused before any GPU work") {
  test::NoValidationMessages guard;
  const auto& d = test::gpu().device();
  // The smallest N whose N x N float map exceeds maxStorageBufferRange.
  const int64_t N = static_cast<int64_t>(std::sqrt(double(d.max_storage_buffer_range) / 4)) + 1;
  const auto w = test::random_weights(1, 1);
  vkattn::Graph g;
  g.output("y", vkattn::add_self_attention(g, g.input("x", {1, 1, N, 1}), w).y);
  CHECK_THROWS_WITH_AS(vkattn::Executor(test::gpu(), g), doctest::Contains("maxStorageBufferRange"), vkattn::Error);
}
