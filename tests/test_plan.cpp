// The executor's plan, checked without a device: barriers, shared memory, batch chunks, key
// blocks and refusals follow from the graph and the limits a DeviceInfo states.
#include <doctest/doctest.h>

#include <algorithm>

#include "gpu.h"
#include "plan.h"

namespace {

// Limits of a made-up device, small enough that the cases below must split their work.
vkattn::DeviceInfo small_device(const std::string& profile = "gpu") {
  vkattn::DeviceInfo d;
  d.type = profile == "cpu" ? "cpu" : "discrete";
  d.profile = profile;
  d.max_storage_buffer_range = 1 << 20;  // 1 MiB
  d.min_storage_buffer_offset_alignment = 64;
  d.max_uniform_buffer_range = 16384;
  d.min_uniform_buffer_offset_alignment = 256;
  d.max_texel_buffer_elements = 1024;  // 16 KiB of RGBA32F texels
  d.min_texel_buffer_offset_alignment = 256;
  d.max_workgroup_count[0] = d.max_workgroup_count[1] = d.max_workgroup_count[2] = 65535;
  d.max_workgroup_invocations = 1024;
  d.max_memory_allocation_size = d.max_buffer_size = uint64_t{1} << 32;
  return d;
}

// A 3x3 convolution from 3 to 4 channels, padding 1, with random weights named after it.
vkattn::TensorId conv(vkattn::Graph& g, vkattn::TensorId in, const std::string& name) {
  return vkattn::ops::conv2d(g, in, g.weight(name + ".w", test::random_tensor({4, 3, 3, 3})),
                             g.weight(name + ".b", test::random_tensor({4})), {1, 1}, {1, 1});
}

}  // namespace

TEST_CASE("plan: tensors alive at different times share a buffer") {
  vkattn::Graph g;
  // s1 lives from node 0 to 1, s2 from 1 to 2, s3 from 2 to 3: s1 and s3 can share.
  const auto s1 = vkattn::ops::softmax(g, g.input("x", {1, 4, 300}));
  const auto s3 = vkattn::ops::softmax(g, vkattn::ops::softmax(g, s1));
  g.output("y", vkattn::ops::softmax(g, s3));
  const auto plan = vkattn::make_plan(g, small_device());
  CHECK(plan.home[s1].kind == vkattn::Home::Shared);
  CHECK(plan.home[s1].slot == plan.home[s3].slot);
  CHECK(plan.slot_bytes.size() == 2);
  CHECK(plan.memory.intermediate_bytes < plan.memory.unshared_bytes);
  CHECK(plan.memory.barriers == 3);
}

TEST_CASE("plan: the block's map comes in blocks of rows that each fit one binding") {
  const int64_t N = 32 * 32;  // a 4 MiB map against a 1 MiB range
  vkattn::Graph g;
  const auto block = vkattn::add_self_attention(g, g.input("x", {2, 8, 32, 32}), test::random_weights(8, 2), "", true);
  g.output("y", block.y);
  g.output("attention", *block.attention);
  const auto device = small_device();
  const auto plan = vkattn::make_plan(g, device);
  uint64_t rows = 0, blocks = 0;
  for (const auto& s : plan.steps) {
    if (s.name != "attention_map") continue;
    ++blocks;
    const auto& map = s.dispatch.operands.back();
    CHECK(map.extent * 4 + device.min_storage_buffer_offset_alignment <= device.max_storage_buffer_range);
    CHECK(map.offset == rows * N);  // blocks follow each other
    rows += map.extent / N;
  }
  CHECK(blocks >= 4);
  CHECK(rows == uint64_t(N));
  CHECK(plan.home[*block.attention].kind == vkattn::Home::Output);
}

TEST_CASE("plan: a tensor larger than one allocation is refused before anything is allocated") {
  vkattn::Graph g;
  const auto block = vkattn::add_self_attention(g, g.input("x", {1, 1, 100000, 1}), test::random_weights(1, 1), "", true);
  g.output("y", block.y);
  g.output("attention", *block.attention);  // 40 GB
  auto device = small_device();
  device.max_memory_allocation_size = device.max_buffer_size = uint64_t{1} << 31;
  CHECK_THROWS_WITH_AS(vkattn::make_plan(g, device), doctest::Contains("in one buffer"), vkattn::DeviceLimitError);
}

TEST_CASE("plan: independent nodes need no barrier, and a reader of a written tensor does") {
  vkattn::Graph g;
  const auto a = g.input("a", {1, 4, 300}), b = g.input("b", {1, 4, 300});
  g.output("sa", vkattn::ops::softmax(g, a));
  g.output("sb", vkattn::ops::softmax(g, b));
  CHECK(vkattn::make_plan(g, small_device()).memory.barriers == 0);
  g.output("ssa", vkattn::ops::softmax(g, g.outputs().at("sa")));
  const auto plan = vkattn::make_plan(g, small_device());
  CHECK(plan.memory.barriers == 1);
  CHECK(plan.steps.back().barrier_before);
}

TEST_CASE("plan: a batch too large for one binding is split into chunks that each fit") {
  vkattn::Graph g;
  // Each batch item is 64 x 1024 floats = 256 KiB; a 1 MiB range holds 3 after alignment slack.
  g.output("s", vkattn::ops::softmax(g, g.input("x", {10, 64, 1024})));
  const auto plan = vkattn::make_plan(g, small_device());
  REQUIRE(plan.steps.size() == 1);
  CHECK(plan.steps[0].per_chunk == 3);
  CHECK(plan.memory.dispatches == 4);  // 3 + 3 + 3 + 1
}

TEST_CASE("plan: what one batch item cannot fit is refused naming the limit") {
  vkattn::Graph g;
  g.output("s", vkattn::ops::softmax(g, g.input("x", {2, 512, 1024})));  // 2 MiB per item
  CHECK_THROWS_WITH_AS(vkattn::make_plan(g, small_device()), doctest::Contains("maxStorageBufferRange"),
                       vkattn::DeviceLimitError);
  vkattn::Graph empty;
  empty.input("x", {1, 2});
  CHECK_THROWS_WITH_AS(vkattn::make_plan(empty, small_device()), doctest::Contains("no outputs"), vkattn::Error);
}

TEST_CASE("plan: the fused block walks the keys in blocks that fit one texel-buffer binding") {
  const int64_t C = 16, Cq = 2, N = 40 * 40;
  vkattn::Graph g;
  g.output("y", vkattn::add_self_attention(g, g.input("x", {2, C, 40, 40}), test::random_weights(C, Cq)).y);
  for (const std::string profile : {"cpu", "gpu"}) {
    CAPTURE(profile);
    const auto plan = vkattn::make_plan(g, small_device(profile));
    uint64_t key_blocks = 0;
    for (const auto& s : plan.steps) key_blocks += s.name == "attention";
    // Each key row holds 4 + 16 floats (keys padded to a whole texel); the range, less twice one
    // alignment's slack (so that the same blocks fit with 16-bit storage), bounds the keys per block.
    const uint64_t keys_per_block = (16384 - 2 * 256) / (vkattn::ops::key_value_row(Cq, C) * 4);
    CHECK(vkattn::ops::key_value_row(Cq, C) == 20);
    CHECK(key_blocks == (N + keys_per_block - 1) / keys_per_block);
    CHECK(plan.memory.intermediate_bytes < uint64_t(N) * N * sizeof(float));
  }
}

TEST_CASE("plan: the fused block takes at most 2048 keys a dispatch, in equal blocks") {
  vkattn::Graph g;
  g.output("y", vkattn::add_self_attention(g, g.input("x", {1, 8, 65, 65}), test::random_weights(8, 1)).y);
  auto device = small_device("cpu");
  device.max_texel_buffer_elements = uint64_t{1} << 27;
  std::vector<uint64_t> keys;
  for (const auto& s : vkattn::make_plan(g, device).steps)
    if (s.name == "attention") keys.push_back(s.dispatch.push.at(4));  // the block's keys
  CHECK(keys == std::vector<uint64_t>{1409, 1409, 1407});  // 4225 keys
}

TEST_CASE("plan: the profile picks the projection kernel") {
  vkattn::Graph g;
  const auto x = g.input("x", {1, 8, 5, 5});
  g.output("y", vkattn::ops::projection(g, x, g.weight("w", test::random_tensor({3, 8})),
                                        g.weight("b", test::random_tensor({3}))));
  CHECK(vkattn::make_plan(g, small_device("cpu")).steps.at(0).name == "projection_pointwise");
  CHECK(vkattn::make_plan(g, small_device("gpu")).steps.at(0).name == "projection");
}

TEST_CASE("plan: the cpu profile's pointwise kernels fit their tiles to the positions") {
  // Fewer than 8 positions an item: the lanes run over output channels.
  vkattn::Graph g;
  const auto x = g.input("x", {1, 16});
  g.output("y", vkattn::ops::linear(g, x, g.weight("w", test::random_tensor({40, 16})),
                                    g.weight("b", test::random_tensor({40}))));
  CHECK(vkattn::make_plan(g, small_device("cpu")).steps.at(0).name == "projection_narrow");
  // Otherwise the tile (specialization constants 0 and 1): from 2^24 multiply-adds up to 64
  // channels and 16 positions where a subgroup's 8 lanes fill and little is computed past the end,
  // then 8, then 4; a folded 2x2 max pool always 4; smaller layers 4 by up to 32.
  vkattn::DeviceInfo device = small_device("cpu");
  device.max_texel_buffer_elements = 1 << 20;
  auto tile = [&](vkattn::Shape shape, int64_t C, int64_t M, bool pool) {
    vkattn::Graph g;
    auto y = vkattn::ops::conv2d(g, g.input("x", shape), g.weight("w", test::random_tensor({M, C, 3, 3})),
                                 g.weight("b", test::random_tensor({M})), {1, 1}, {1, 1});
    if (pool) y = vkattn::ops::max_pool2d(g, y, {2, 2}, {2, 2}, {0, 0});
    g.output("y", y);
    const auto plan = vkattn::make_plan(g, device);
    REQUIRE(plan.steps.at(0).name == "conv2d_direct");
    const auto& s = plan.steps.at(0).dispatch.specialization;
    return std::pair<uint32_t, uint32_t>{s.at(1), s.at(0)};
  };
  using Tile = std::pair<uint32_t, uint32_t>;  // positions, channels
  CHECK(tile({1, 64, 29, 27}, 64, 128, false) == Tile{16, 64});  // 783 positions: 49 lanes, 1 past the end
  CHECK(tile({2, 128, 6, 6}, 128, 208, false) == Tile{8, 52});   // 36: 16 would fill only 6 lanes
  CHECK(tile({1, 512, 5, 5}, 512, 256, false) == Tile{4, 64});   // 25: 8 would fill 4
  CHECK(tile({1, 64, 29, 27}, 64, 128, true) == Tile{4, 64});
  CHECK(tile({1, 8, 29, 27}, 8, 64, false) == Tile{4, 32});      // 3.6M multiply-adds
}

TEST_CASE("plan: a relu that is its convolution's only reader runs inside it on the cpu profile") {
  vkattn::Graph g;
  const auto x = g.input("x", {2, 3, 8, 8});
  const auto c1 = conv(g, x, "c1");
  const auto r1 = vkattn::ops::relu(g, c1);  // fused: c1 has no other reader
  const auto c2 = conv(g, x, "c2");
  const auto r2 = vkattn::ops::relu(g, c2);  // not fused: c2 is read again below
  g.output("y", vkattn::ops::residual(g, r2, c2, g.weight("one", vkattn::HostTensor{{1}, {1.f}})));
  g.output("r1", r1);
  auto count = [](const vkattn::Plan& plan, const std::string& kernel) {
    return std::count_if(plan.steps.begin(), plan.steps.end(), [&](const auto& s) { return s.name == kernel; });
  };
  const auto cpu = vkattn::make_plan(g, small_device("cpu"));
  CHECK(count(cpu, "relu") == 1);
  CHECK(cpu.home[c1].kind == vkattn::Home::Unused);  // never written: no memory
  CHECK(cpu.home[c2].kind == vkattn::Home::Shared);
  constexpr size_t kActivation = 4;  // conv2d_direct's specialization: MG, P, VEC4_STORE, POOL, ACTIVATION, ...
  CHECK(cpu.steps.at(0).dispatch.specialization.at(kActivation) == uint32_t(vkattn::ActivationFunction::relu));
  CHECK(cpu.steps.at(1).dispatch.specialization.at(kActivation) == uint32_t(vkattn::ActivationFunction::identity));
  const auto gpu = vkattn::make_plan(g, small_device("gpu"));  // the GEMM cannot: both relus run
  CHECK(count(gpu, "relu") == 2);
  CHECK(gpu.home[c1].kind == vkattn::Home::Shared);
}

TEST_CASE("plan: a 2x2 max pool after a convolution (and its relu) runs inside it on the cpu profile") {
  vkattn::Graph g;
  const auto x = g.input("x", {2, 3, 9, 8});
  const auto c1 = conv(g, x, "c1");
  const auto r1 = vkattn::ops::relu(g, c1);
  const auto p1 = vkattn::ops::max_pool2d(g, r1, {2, 2}, {2, 2}, {0, 0});  // all three one kernel
  const auto c2 = conv(g, x, "c2");
  const auto p2 = vkattn::ops::max_pool2d(g, c2, {3, 3}, {2, 2}, {1, 1});  // not 2x2: a kernel of its own
  const auto c3 = conv(g, x, "c3");
  const auto r3 = vkattn::ops::relu(g, c3);
  const auto p3 = vkattn::ops::max_pool2d(g, r3, {2, 2}, {2, 2}, {0, 0});  // r3 is read again: the relu only
  g.output("p1", p1);
  g.output("p2", p2);
  g.output("p3", p3);
  g.output("r3", r3);
  auto kernels = [](const vkattn::Plan& plan) {
    std::vector<std::string> names;
    for (const auto& s : plan.steps) names.push_back(s.name);
    return names;
  };
  const auto cpu = vkattn::make_plan(g, small_device("cpu"));
  CHECK(kernels(cpu) == std::vector<std::string>{"conv2d_direct", "conv2d_direct", "max_pool2d", "conv2d_direct",
                                                 "max_pool2d"});
  CHECK(cpu.home[c1].kind == vkattn::Home::Unused);
  CHECK(cpu.home[r1].kind == vkattn::Home::Unused);
  CHECK(cpu.steps.at(0).dispatch.specialization.at(3) == 1);  // POOL
  CHECK(cpu.steps.at(0).dispatch.operands.at(3).tensor == p1);
  CHECK(cpu.steps.at(1).dispatch.specialization.at(3) == 0);
  CHECK(cpu.steps.at(3).dispatch.operands.at(3).tensor == r3);
  const auto gpu = vkattn::make_plan(g, small_device("gpu"));  // the GEMM folds nothing
  CHECK(kernels(gpu) == std::vector<std::string>{"conv2d", "relu", "max_pool2d", "conv2d", "max_pool2d", "conv2d",
                                                 "relu", "max_pool2d"});
}

TEST_CASE("plan: a residual add and any activation after it run inside the convolution when each value has no other reader") {
  vkattn::Graph g;
  const auto x = g.input("x", {2, 3, 8, 8});
  const auto skip = conv(g, x, "skip");
  const auto c1 = conv(g, x, "c1");
  const auto sum = vkattn::ops::binary(g, vkattn::ops::Binary::add, skip, c1);  // folds into c1, reading skip
  const auto act = vkattn::ops::hardswish(g, sum);
  const auto c2 = conv(g, x, "c2");
  const auto silu = vkattn::ops::silu(g, c2);
  const auto pooled = vkattn::ops::max_pool2d(g, silu, {2, 2}, {2, 2}, {0, 0});  // after the silu: folds
  const auto c3 = conv(g, x, "c3");
  const auto p3 = vkattn::ops::max_pool2d(g, c3, {2, 2}, {2, 2}, {0, 0});
  const auto gelu = vkattn::ops::gelu(g, p3, false);  // gelu does not commute with max: a node of its own
  g.output("act", act);
  g.output("pooled", pooled);
  g.output("gelu", gelu);
  const auto cpu = vkattn::make_plan(g, small_device("cpu"));
  std::vector<std::string> kernels;
  for (const auto& s : cpu.steps) kernels.push_back(s.name);
  CHECK(kernels == std::vector<std::string>{"conv2d_direct", "conv2d_direct", "conv2d_direct", "conv2d_direct", "gelu"});
  const auto& fused = cpu.steps.at(1).dispatch;  // c1 + skip, then hardswish
  CHECK(fused.operands.at(3).tensor == act);
  CHECK(fused.operands.at(4).tensor == skip);  // the residual's binding
  constexpr size_t kActivation = 4, kResidual = 7;
  CHECK(fused.specialization.at(kActivation) == uint32_t(vkattn::ActivationFunction::hardswish));
  CHECK(fused.specialization.at(kResidual) == 1);
  CHECK(cpu.home[c1].kind == vkattn::Home::Unused);
  CHECK(cpu.home[sum].kind == vkattn::Home::Unused);
  CHECK(cpu.steps.at(0).dispatch.specialization.at(kResidual) == 0);
  CHECK(cpu.steps.at(2).dispatch.specialization.at(kActivation) == uint32_t(vkattn::ActivationFunction::silu));
  CHECK(cpu.steps.at(2).dispatch.operands.at(3).tensor == pooled);
  CHECK(cpu.steps.at(3).dispatch.operands.at(3).tensor == p3);
  CHECK(cpu.steps.at(3).dispatch.specialization.at(kActivation) == uint32_t(vkattn::ActivationFunction::identity));
  // skip lives until the fused step that reads it, so it cannot share memory with what that step writes.
  CHECK(cpu.home[skip].kind == vkattn::Home::Shared);
}

TEST_CASE("plan: a residual onto a depthwise convolution folds on both profiles, a broadcast add does not") {
  vkattn::Graph g;
  const auto x = g.input("x", {2, 4, 6, 6});
  const auto dw = vkattn::ops::conv2d(g, x, g.weight("w", test::random_tensor({4, 1, 3, 3})),
                                      g.weight("b", test::random_tensor({4})), {1, 1}, {1, 1}, 4);
  const auto sum = vkattn::ops::binary(g, vkattn::ops::Binary::add, dw, x);
  const auto dw2 = vkattn::ops::conv2d(g, sum, g.weight("w2", test::random_tensor({4, 1, 3, 3})),
                                       g.weight("b2", test::random_tensor({4})), {1, 1}, {1, 1}, 4);
  const auto column = g.input("column", {2, 4, 6, 1});
  g.output("y", vkattn::ops::binary(g, vkattn::ops::Binary::add, dw2, column));  // broadcasts: its own node
  for (const char* profile : {"cpu", "gpu"}) {
    const auto plan = vkattn::make_plan(g, small_device(profile));
    std::vector<std::string> kernels;
    for (const auto& s : plan.steps) kernels.push_back(s.name);
    CHECK(kernels == std::vector<std::string>{"conv2d_grouped", "conv2d_grouped", "binary"});
    CHECK(plan.steps.at(0).dispatch.operands.at(4).tensor == x);
  }
}

TEST_CASE("plan: weights no kernel of the profile reads get no memory") {
  vkattn::Graph g;
  const auto w = g.weight("w", test::random_tensor({4, 3, 3, 3}));
  g.output("y", vkattn::ops::conv2d(g, g.input("x", {1, 3, 6, 6}), w, g.weight("b", test::random_tensor({4})), {1, 1},
                                    {1, 1}));
  // The cpu kernel reads the k-major copy the builder added; the GEMM reads w itself.
  CHECK(vkattn::make_plan(g, small_device("cpu")).home[w].kind == vkattn::Home::Unused);
  CHECK(vkattn::make_plan(g, small_device("gpu")).home[w].kind == vkattn::Home::Weight);
}
