// projection (1x1 convolution, one GEMM) against the double-precision reference.
#include "gpu.h"

TEST_CASE("projection matches the reference on shapes with remainders") {
  std::vector<vkattn::conformance::Spec> specs;
  for (int64_t C : {1, 8, 40, 72})
    for (const test::Spatial& s : test::kSpatialShapes)
      for (int64_t B : {1, 3}) {
        const int64_t M = 2 * std::max<int64_t>(1, C / 8) + C;  // the stacked q, k, v rows
        specs.push_back({{"B", B}, {"C", C}, {"M", M}, {"H", s.h}, {"W", s.w}, {"conv_weight", B == 3}});
      }
  test::check_op("projection", specs);
}

TEST_CASE("projection rejects a weight or bias that does not fit") {
  vkattn::Graph bad;
  const auto in = bad.input("x", {1, 4, 2, 2});
  CHECK_THROWS_WITH_AS(vkattn::ops::projection(bad, in, bad.weight("w", test::random_tensor({3, 5, 1, 1})),
                                               bad.weight("b", test::random_tensor({3}))),
                       doctest::Contains("input channels"), vkattn::Error);
  CHECK_THROWS_AS(vkattn::ops::projection(bad, in, bad.weight("w2", test::random_tensor({3, 4, 3, 3})),
                                          bad.weight("b2", test::random_tensor({3}))),
                  vkattn::Error);
  CHECK_THROWS_AS(vkattn::ops::projection(bad, in, bad.weight("w3", test::random_tensor({3, 4})),
                                          bad.weight("b3", test::random_tensor({4}))),
                  vkattn::Error);
}
