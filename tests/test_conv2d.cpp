// conv2d (the device profile's kernel) against the double-precision reference.
#include <cmath>

#include "gpu.h"

namespace {
vkattn::conformance::Spec conv(int64_t B, int64_t C, int64_t H, int64_t W, int64_t M, vkattn::Shape k,
                               vkattn::Shape stride, vkattn::Shape pad) {
  return {{"B", B}, {"C", C}, {"H", H}, {"W", W}, {"M", M}, {"k", k}, {"stride", stride}, {"pad", pad}};
}
}  // namespace

TEST_CASE("conv2d matches the reference for kernels, strides and paddings") {
  test::check_op("conv2d", {
      conv(1, 1, 1, 1, 1, {3, 3}, {1, 1}, {1, 1}),      // one pixel, all but the centre tap in padding
      conv(2, 3, 7, 13, 5, {3, 3}, {1, 1}, {1, 1}),     // prime sizes
      conv(1, 1, 28, 28, 16, {3, 3}, {1, 1}, {1, 1}),   // the classifier's first layer
      conv(3, 16, 14, 14, 64, {3, 3}, {1, 1}, {1, 1}),  // and its second
      conv(2, 40, 9, 11, 72, {5, 3}, {2, 1}, {2, 1}),   // rectangular kernel, stride 2 on one axis
      conv(1, 8, 32, 32, 257, {1, 1}, {1, 1}, {0, 0}),  // 1x1, M past four tiles
      conv(2, 3, 17, 17, 4, {4, 4}, {3, 3}, {0, 0}),    // stride larger than the rest of the last window
      conv(1, 2, 5, 6, 3, {5, 6}, {1, 1}, {0, 0}),      // the kernel covers the whole image
  });
}

TEST_CASE("conv2d rejects shapes that do not fit") {
  vkattn::Graph g;
  const auto x = g.input("x", {1, 3, 4, 4});
  CHECK_THROWS_WITH_AS(vkattn::ops::conv2d(g, x, g.weight("w", test::random_tensor({2, 4, 3, 3})),
                                           g.weight("b", test::random_tensor({2}))),
                       doctest::Contains("input channels"), vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::ops::conv2d(g, x, g.weight("w2", test::random_tensor({2, 3, 5, 5})),
                                           g.weight("b2", test::random_tensor({2}))),
                       doctest::Contains("larger than the padded input"), vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::ops::conv2d(g, x, g.weight("w3", test::random_tensor({2, 3, 3, 3})),
                                           g.weight("b3", test::random_tensor({3}))),
                       doctest::Contains("bias"), vkattn::Error);
  CHECK_THROWS_AS(vkattn::ops::conv2d(g, x, g.weight("w4", test::random_tensor({2, 3, 3, 3})),
                                      g.weight("b4", test::random_tensor({2})), {0, 1}),
                  vkattn::Error);
}

TEST_CASE("conv2d: an infinity in the image reaches only the outputs whose window holds it") {
  test::NoValidationMessages guard;
  // 3x3 ones over a 4x4 image of ones with padding 1; x[0, 0, 0, 0] is +inf. Zero padding must
  // stay zero next to it (a padded tap is not 0 * some element).
  vkattn::Graph g;
  g.output("y", vkattn::ops::conv2d(g, g.input("x", {1, 1, 4, 4}), g.weight("w", {{1, 1, 3, 3}, std::vector<float>(9, 1.f)}),
                                    g.weight("b", {{1}, {0.f}}), {1, 1}, {1, 1}));
  vkattn::HostTensor x{{1, 1, 4, 4}, std::vector<float>(16, 1.f)};
  x.data[0] = INFINITY;
  vkattn::Executor exec(test::gpu(), g);
  exec.set_input("x", x);
  exec.run();
  const auto y = exec.output("y").data;
  CHECK(std::isinf(y[0]));       // its window holds the infinity
  CHECK(y[15] == 4.f);           // the bottom-right corner: 2x2 ones, 5 padded taps
  CHECK(y[2 * 4 + 2] == 9.f);    // inside, away from it
  CHECK(y[3 * 4 + 0] == 4.f);    // the bottom-left corner
}
