// Graph building, memory planning by liveness, barrier placement, pipeline reuse, device limits.
#include <cmath>

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

TEST_CASE("the block with its map: barriers only after writes, and pipelines built once") {
  test::NoValidationMessages guard;
  const auto w = test::random_weights(8, 2);
  vkattn::Graph g;
  const auto block = vkattn::add_self_attention(g, g.input("x", {1, 8, 16, 16}), w, "", true);
  g.output("y", block.y);
  g.output("attention", *block.attention);
  vkattn::Executor first(test::gpu(), g);
  const auto& plan = first.memory_plan();
  // q and k|v projections (independent), attention with the residual in its epilogue (one key
  // block: 256 keys of 12 floats fit any device's texel-buffer range), map (reads its statistics).
  CHECK(plan.dispatches == 4);
  CHECK(plan.barriers == 2);
  const size_t pipelines = test::gpu().impl().kernels.size();
  vkattn::Executor second(test::gpu(), g);
  CHECK(test::gpu().impl().kernels.size() == pipelines);
}

TEST_CASE("the block without its map keeps no N x N tensor") {
  test::NoValidationMessages guard;
  const int64_t C = 8, N = 64 * 64;
  const auto w = test::random_weights(C, 2);
  vkattn::Graph g;
  g.output("y", vkattn::add_self_attention(g, g.input("x", {1, C, 64, 64}), w).y);
  vkattn::Executor exec(test::gpu(), g);
  // A single N x N float map would be 64 MiB; the fused route's intermediates are O(N * C).
  CHECK(exec.memory_plan().intermediate_bytes < uint64_t(N) * 64 * sizeof(float));
  CHECK(exec.memory_plan().intermediate_bytes < uint64_t(N) * N * sizeof(float) / 16);
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
  // Each size allowed, the product past 2^48 (and, for the last, past 2^64): refused, never wrapped.
  CHECK_THROWS_WITH_AS(g.input("huge", {1 << 30, 1 << 30, 1 << 30}), doctest::Contains("more elements"), vkattn::Error);
  CHECK_THROWS_WITH_AS(g.input("wraps", {int64_t{1} << 31, int64_t{1} << 31, int64_t{1} << 31}),
                       doctest::Contains("more elements"), vkattn::Error);
  CHECK_THROWS_AS(g.weight("w", {{2, 2}, {1.f, 2.f, 3.f}}), vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::Executor(test::gpu(), g), doctest::Contains("no outputs"), vkattn::Error);
  g.output("s", vkattn::ops::softmax(g, x));
  vkattn::Executor exec(test::gpu(), g);
  CHECK_THROWS_WITH_AS(exec.set_input("x", test::random_tensor({1, 2, 3, 4})), doctest::Contains("shape"), vkattn::Error);
  CHECK_THROWS_AS(exec.set_input("nope", test::random_tensor({1})), vkattn::Error);
  CHECK_THROWS_AS(exec.output("s"), vkattn::Error);  // before any run
}

TEST_CASE("a map larger than one storage binding is written in blocks of rows") {
  test::NoValidationMessages guard;
  const auto& d = test::gpu().device();
  // The smallest N whose N x N float map exceeds maxStorageBufferRange, if the device can hold it.
  const int64_t N = static_cast<int64_t>(std::sqrt(double(d.max_storage_buffer_range) / 4)) + 1;
  if (uint64_t(N) * N * 4 > std::min(d.max_memory_allocation_size, d.max_buffer_size) || N > 20000) return;
  vkattn::Graph g;
  const auto block = vkattn::add_self_attention(g, g.input("x", {1, 1, N, 1}), test::random_weights(1, 1), "", true);
  g.output("y", block.y);
  g.output("attention", *block.attention);
  vkattn::Executor exec(test::gpu(), g);
  exec.set_input("x", test::random_tensor({1, 1, N, 1}));
  exec.fill_outputs(NAN);
  exec.run();
  // Every row, across the block boundaries, is a softmax: positive and summing to 1.
  std::vector<float> row(N);
  for (const int64_t i : {int64_t{0}, N / 3, N / 2, N - 1}) {
    exec.read_output("attention", uint64_t(i) * N, N, row.data());
    double sum = 0;
    for (float v : row) {
      REQUIRE(v >= 0.f);
      sum += v;
    }
    CHECK(sum == doctest::Approx(1.0).epsilon(1e-4));
  }
}
