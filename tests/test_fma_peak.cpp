// The multiply-add peak `vkattn bench` reads kernels against: the kernel does the work it is
// credited with (measure_fma_peak checks every lane's exact sum), the figures agree with each
// other, and it runs under validation.
#include <cmath>

#include "gpu.h"

TEST_CASE("fma_peak: the device's float32 multiply-add throughput, measured and checked") {
  test::NoValidationMessages quiet;
  const vkattn::FmaPeak peak = vkattn::measure_fma_peak(test::gpu());
  // 4096 workgroups of 64 lanes; each lane does a power of two of loop steps of 3 chains x 32
  // multiply-adds of a vec4, two operations each (shaders/fma_peak.comp).
  CHECK(peak.lanes == 4096 * 64);
  const uint64_t per_step = peak.lanes * 3 * 32 * 4 * 2;
  REQUIRE(peak.flops % per_step == 0);
  const uint64_t steps = peak.flops / per_step;
  CHECK((steps & (steps - 1)) == 0);
  CHECK(steps <= (1u << 16));
  CHECK(peak.ms > 0);
  CHECK(std::isfinite(peak.gflops));
  CHECK(peak.gflops == doctest::Approx(double(peak.flops) / (peak.ms * 1e6)).epsilon(1e-12));
  // It grows the work until one dispatch takes 50 ms, unless it reached the most steps first.
  CHECK((peak.ms >= 50 * 0.5 || steps == (1u << 16)));  // the best of three may be faster than the one that passed 50
}
