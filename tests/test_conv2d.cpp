// conv2d (implicit GEMM) against the double-precision reference.
#include "gpu.h"

namespace {

struct ConvCase {
  int64_t B, C, H, W, M;
  vkattn::reference::Window win;
};

}  // namespace

TEST_CASE("conv2d matches the reference for kernels, strides and paddings") {
  test::NoValidationMessages guard;
  const std::vector<ConvCase> cases = {
      {1, 1, 1, 1, 1, {3, 3, 1, 1, 1, 1}},      // one pixel, all but the centre tap in padding
      {2, 3, 7, 13, 5, {3, 3, 1, 1, 1, 1}},     // prime sizes
      {1, 1, 28, 28, 16, {3, 3, 1, 1, 1, 1}},   // the classifier's first layer
      {3, 16, 14, 14, 64, {3, 3, 1, 1, 1, 1}},  // and its second
      {2, 40, 9, 11, 72, {5, 3, 2, 1, 2, 1}},   // rectangular kernel, stride 2 on one axis
      {1, 8, 32, 32, 257, {1, 1, 1, 1, 0, 0}},  // 1x1, M past four tiles
      {2, 3, 17, 17, 4, {4, 4, 3, 3, 0, 0}},    // stride larger than the rest of the last window
      {1, 2, 5, 6, 3, {5, 6, 1, 1, 0, 0}},      // the kernel covers the whole image
  };
  for (const ConvCase& k : cases) {
    const auto& w = k.win;
    CAPTURE(k.B); CAPTURE(k.C); CAPTURE(k.H); CAPTURE(k.W); CAPTURE(k.M);
    CAPTURE(w.kh); CAPTURE(w.kw); CAPTURE(w.sh); CAPTURE(w.sw); CAPTURE(w.ph); CAPTURE(w.pw);
    const auto x = test::random_tensor({k.B, k.C, k.H, k.W});
    const auto weight = test::random_tensor({k.M, k.C, w.kh, w.kw});
    const auto bias = test::random_tensor({k.M});
    vkattn::Graph g;
    g.output("y", vkattn::ops::conv2d(g, g.input("x", x.shape), g.weight("w", weight), g.weight("b", bias),
                                      {w.sh, w.sw}, {w.ph, w.pw}));
    const auto y = test::run_graph(g, {{"x", x}}, "y");
    const int64_t OH = (k.H + 2 * w.ph - w.kh) / w.sh + 1, OW = (k.W + 2 * w.pw - w.kw) / w.sw + 1;
    CHECK(y.shape == vkattn::Shape{k.B, k.M, OH, OW});
    test::check_close(y.data, vkattn::reference::conv2d(test::widen(x.data), {k.B, k.C, k.H, k.W},
                                                        test::widen(weight.data), test::widen(bias.data), k.M, w));
  }
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
