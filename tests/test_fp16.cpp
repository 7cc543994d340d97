// Precision::fp16: half conversions, every kernel's fp16 build, the plan's storage and casts,
// and whole forward passes against float64 within half's rounding.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstring>

#include "app_device.h"
#include "fp16_storage.h"
#include "fp16_variants.h"
#include "gpu.h"
#include "half_float.h"
#include "plan.h"
#include "spirv_reflect.h"

namespace {

// The nearest half to x by search over every finite half (ties to the even one), as a reference.
uint16_t nearest_half(double x) {
  uint16_t best = 0;
  double best_diff = INFINITY;
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float v = vkattn::half_to_float(static_cast<uint16_t>(h));
    if (!std::isfinite(v)) continue;
    const double d = std::abs(double(v) - x);
    if (d < best_diff || (d == best_diff && (h & 1) == 0 && std::signbit(v) == std::signbit(x))) {
      best = static_cast<uint16_t>(h);
      best_diff = d;
    }
  }
  return best;
}

// SPIR-V capability Float16 (OpCapability = 17, Float16 = 9): half arithmetic.
bool declares_float16(std::span<const uint32_t> spirv) {
  for (size_t i = 5; i < spirv.size();) {
    const uint32_t count = spirv[i] >> 16, op = spirv[i] & 0xffff;
    if (op == 17 && count == 2 && spirv[i + 1] == 9) return true;
    if (count == 0) break;
    i += count;
  }
  return false;
}

}  // namespace

TEST_CASE("fp16: every half converts to float and back unchanged") {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = vkattn::half_to_float(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      CHECK(std::isnan(vkattn::half_to_float(vkattn::float_to_half(f))));
      continue;
    }
    REQUIRE(vkattn::float_to_half(f) == h);
  }
}

TEST_CASE("fp16: float_to_half rounds to nearest even and overflows to infinity") {
  // Ties: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10 and goes to the even 1.
  CHECK(vkattn::float_to_half(1.f + std::ldexp(1.f, -11)) == 0x3c00);
  CHECK(vkattn::float_to_half(1.f + 3 * std::ldexp(1.f, -11)) == 0x3c02);
  CHECK(vkattn::float_to_half(65504.f) == 0x7bff);
  CHECK(vkattn::float_to_half(65519.f) == 0x7bff);
  CHECK(vkattn::float_to_half(65520.f) == 0x7c00);
  CHECK(vkattn::float_to_half(-1e10f) == 0xfc00);
  CHECK(vkattn::float_to_half(std::ldexp(1.f, -25)) == 0x0000);  // a tie with 0: even
  CHECK(vkattn::float_to_half(std::ldexp(3.f, -26)) == 0x0001);
  CHECK(vkattn::float_to_half(-0.f) == 0x8000);
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> exponent(-27.f, 17.f);
  for (int i = 0; i < 300; ++i) {  // against a search over every half
    const float x = (i % 2 ? -1.f : 1.f) * std::exp2(exponent(rng));
    if (std::abs(x) >= 65520.f) continue;
    INFO("x = " << x);
    CHECK(vkattn::float_to_half(x) == nearest_half(x));
  }
}

TEST_CASE("fp16: every kernel has an fp16 build that stores in 16 bits and computes in float32") {
  const auto variants = vkattn::fp16_variants();
  CHECK(variants.size() > 50);
  for (const auto& [fp32, fp16] : variants) {
    // Found by its float build without ambiguity (two kernels may compile to the same words).
    REQUIRE(vkattn::fp16_variant(fp32).size() == fp16.size());
    // Half arithmetic would need shaderFloat16, which fp16 does not ask of a device.
    CHECK_FALSE(declares_float16(fp16));
    const auto shader = vkattn::reflect(fp16);
    CHECK(shader.bindings == vkattn::reflect(fp32).bindings);
    for (const auto& [binding, bytes] : shader.storage_float_bytes) CHECK((bytes == 2 || bytes == 4));
  }
}

TEST_CASE("fp16: the plan stores every tensor but inputs and outputs in 16 bits and runs fp16 builds") {
  vkattn::Graph g;
  const auto x = g.input("x", {2, 3, 9, 9});
  const auto y = vkattn::ops::relu(g, vkattn::ops::conv2d(g, x, g.weight("w", test::random_tensor({4, 3, 3, 3})),
                                                         g.weight("b", test::random_tensor({4})), {1, 1}, {1, 1}));
  g.output("y", y);
  const vkattn::Graph half = vkattn::with_fp16_storage(g);
  const auto plan = vkattn::make_plan(half, test::gpu().device(), vkattn::Precision::fp16);
  CHECK(plan.float_bytes[half.inputs().at("x")] == 4);
  CHECK(plan.float_bytes[half.outputs().at("y")] == 4);
  for (vkattn::TensorId t = 0; t < half.tensors().size(); ++t)
    if (half.tensors()[t].kind == vkattn::Graph::Kind::Weight) CHECK(plan.float_bytes[t] == 2);
  REQUIRE(plan.steps.size() == 3);  // cast in, the convolution with its relu, cast out
  CHECK(plan.steps.front().name == "cast_to_fp16");
  CHECK(plan.steps.back().name == "cast_to_fp32");
  for (const auto& s : plan.steps) CHECK(s.dispatch.kernel.ends_with(".fp16"));
  // Half the bytes of the same plan in float32, for weights and intermediates alike.
  const auto full = vkattn::make_plan(g, test::gpu().device());
  CHECK(plan.steps[1].bytes < full.steps[0].bytes);
}

TEST_CASE("fp16: an output that is a graph input is refused as in float32") {
  vkattn::Graph g;
  g.output("y", g.input("x", {1, 4}));
  CHECK_THROWS_WITH_AS(vkattn::with_fp16_storage(g), doctest::Contains("must be computed by a node"), vkattn::Error);
}

TEST_CASE("fp16: a network runs within half's rounding of float64, with fp32 inputs and outputs") {
  test::NoValidationMessages quiet;
  vkattn::Graph g;
  const auto x = g.input("x", {2, 8, 12, 12});
  const auto w = test::random_tensor({8, 8, 3, 3}, -0.3f, 0.3f), b = test::random_tensor({8});
  const auto conv = vkattn::ops::conv2d(g, x, g.weight("w", w), g.weight("b", b), {1, 1}, {1, 1});
  g.output("y", vkattn::ops::relu(g, conv));
  vkattn::ExecutorOptions options;
  options.precision = vkattn::Precision::fp16;
  vkattn::Executor exec(test::gpu(), g, options);
  const auto input = test::random_tensor({2, 8, 12, 12});
  exec.set_input("x", input);
  exec.fill_outputs(NAN);
  exec.run();
  const auto y = exec.output("y");
  // float64 reference of the same float32 inputs: the error is half's, not the reference's.
  double diff = 0, norm = 0;
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t o = 0; o < 8; ++o)
      for (int64_t i = 0; i < 12; ++i)
        for (int64_t j = 0; j < 12; ++j) {
          double acc = b.data[o];
          for (int64_t c = 0; c < 8; ++c)
            for (int64_t di = -1; di <= 1; ++di)
              for (int64_t dj = -1; dj <= 1; ++dj) {
                const int64_t r = i + di, s = j + dj;
                if (r < 0 || r >= 12 || s < 0 || s >= 12) continue;
                acc += double(w.data[((o * 8 + c) * 3 + di + 1) * 3 + dj + 1]) * input.data[((n * 8 + c) * 12 + r) * 12 + s];
              }
          const double ref = std::max(acc, 0.0), got = y.data[((n * 8 + o) * 12 + i) * 12 + j];
          REQUIRE(std::isfinite(got));
          diff += (got - ref) * (got - ref);
          norm += ref * ref;
        }
  const double relative = std::sqrt(diff / norm);
  CHECK(relative < 4e-3);
  CHECK(relative > 1e-5);  // it did store in 16 bits: float32 alone is far closer
  const vkattn::Executor full(test::gpu(), g);
  CHECK(2 * exec.memory_plan().weight_bytes == full.memory_plan().weight_bytes);
}

TEST_CASE("fp16: an adopted device without 16-bit storage enabled is refused in one sentence") {
  test::AppDevice app;  // created with no 16-bit storage feature
  vkattn::Context ctx = vkattn::Context::adopt({app.instance, app.physical, app.device, app.queue, app.family});
  CHECK_FALSE(ctx.device().storage_buffer_16bit);
  vkattn::Graph g;
  g.output("y", vkattn::ops::relu(g, g.input("x", {1, 8})));
  vkattn::ExecutorOptions options;
  options.precision = vkattn::Precision::fp16;
  CHECK_THROWS_WITH_AS(vkattn::Executor(ctx, g, options), doctest::Contains("storageBuffer16BitAccess"), vkattn::Error);
  CHECK_NOTHROW(vkattn::Executor(ctx, g));  // fp32 needs nothing of it
  CHECK(app.messages.empty());
}

TEST_CASE("fp16: an output larger than one binding per batch item is cast in blocks that fit") {
  vkattn::DeviceInfo device = test::gpu().device();
  device.max_storage_buffer_range = 1 << 20;  // 1 MiB
  vkattn::Graph g;
  // The block's (2, 600, 600) map: 1.4 MB an item, which its kernels write in blocks of rows.
  const auto block = vkattn::add_self_attention(g, g.input("x", {2, 4, 20, 30}), test::random_weights(4, 1), "", true);
  g.output("y", block.y);
  g.output("map", *block.attention);
  const auto plan = vkattn::make_plan(vkattn::with_fp16_storage(g), device, vkattn::Precision::fp16);
  const auto [range, align] = vkattn::bind_limits(vkattn::BindAs::Vec4Storage, device);
  const uint64_t most = (range - align) / 4 / 4 * 4, map = 2 * 600 * 600;
  uint64_t blocks = 0, elements = 0;
  for (const auto& s : plan.steps)
    if (s.name == "cast_to_fp32" && s.dispatch.batches == 1 && s.dispatch.operands[1].batch_stride > 2 * 4 * 600) {
      ++blocks;
      elements += s.dispatch.operands[1].batch_stride;
      CHECK(s.dispatch.operands[1].batch_stride <= most);
    }
  CHECK(blocks == (map + most - 1) / most);
  CHECK(elements == map);
}
