// projection (1x1 convolution, one GEMM) against the double-precision reference.
#include "gpu.h"

TEST_CASE("projection matches the reference on shapes with remainders") {
  test::NoValidationMessages guard;
  for (int64_t C : {1, 8, 40, 72})
    for (const test::Spatial& s : test::kSpatialShapes)
      for (int64_t B : {1, 3}) {
        const int64_t Cq = std::max<int64_t>(1, C / 8), M = 2 * Cq + C;  // the stacked q, k, v rows
        CAPTURE(B); CAPTURE(C); CAPTURE(M); CAPTURE(s.h); CAPTURE(s.w);
        vkattn::Graph g;
        const auto x = test::random_tensor({B, C, s.h, s.w});
        const auto w = test::random_tensor({M, C, 1, 1});
        const auto b = test::random_tensor({M});
        g.output("y", vkattn::ops::projection(g, g.input("x", x.shape), g.weight("w", w), g.weight("b", b)));
        const auto y = test::run_graph(g, {{"x", x}}, "y");
        CHECK(y.shape == vkattn::Shape{B, M, s.h, s.w});
        test::check_close(y.data, vkattn::reference::projection(x.data, w.data, b.data, B, C, M, s.h * s.w));
      }
}

TEST_CASE("projection takes a (M, C) weight and rejects one that does not fit") {
  test::NoValidationMessages guard;
  vkattn::Graph g;
  const auto x = test::random_tensor({2, 5, 3, 4});
  const auto w = test::random_tensor({3, 5});
  const auto b = test::random_tensor({3});
  g.output("y", vkattn::ops::projection(g, g.input("x", x.shape), g.weight("w", w), g.weight("b", b)));
  test::check_close(test::run_graph(g, {{"x", x}}, "y").data,
                    vkattn::reference::projection(x.data, w.data, b.data, 2, 5, 3, 12));

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
