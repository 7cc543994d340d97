// max_pool2d, avg_pool2d and global_avg_pool2d against the double-precision reference.
#include "gpu.h"

TEST_CASE("max and average pooling match the reference, padding included") {
  test::NoValidationMessages guard;
  const std::vector<vkattn::reference::Window> windows = {
      {2, 2, 2, 2, 0, 0}, {3, 3, 2, 2, 1, 1}, {3, 3, 1, 1, 1, 1}, {1, 1, 1, 1, 0, 0}, {3, 2, 3, 1, 0, 1}};
  for (const auto& w : windows)
    for (const vkattn::reference::Image in : {vkattn::reference::Image{1, 1, 3, 3}, {2, 5, 7, 13}, {3, 16, 28, 28}})
      for (bool max : {true, false}) {
        CAPTURE(max); CAPTURE(in.B); CAPTURE(in.C); CAPTURE(in.H); CAPTURE(in.W);
        CAPTURE(w.kh); CAPTURE(w.kw); CAPTURE(w.sh); CAPTURE(w.sw); CAPTURE(w.ph); CAPTURE(w.pw);
        // All negative for max: a padded zero that won would show.
        const auto x = test::random_tensor({in.B, in.C, in.H, in.W}, max ? -2.f : -1.f, max ? -0.5f : 1.f);
        vkattn::Graph g;
        const auto input = g.input("x", x.shape);
        g.output("y", max ? vkattn::ops::max_pool2d(g, input, {w.kh, w.kw}, {w.sh, w.sw}, {w.ph, w.pw})
                          : vkattn::ops::avg_pool2d(g, input, {w.kh, w.kw}, {w.sh, w.sw}, {w.ph, w.pw}));
        const auto y = test::run_graph(g, {{"x", x}}, "y");
        CHECK(y.shape[2] == (in.H + 2 * w.ph - w.kh) / w.sh + 1);
        CHECK(y.shape[3] == (in.W + 2 * w.pw - w.kw) / w.sw + 1);
        test::check_close(y.data, vkattn::reference::pool2d(test::widen(x.data), in, w, max));
      }
}

TEST_CASE("pooling rejects padding over half the kernel and windows larger than the input") {
  vkattn::Graph g;
  const auto x = g.input("x", {1, 2, 4, 4});
  CHECK_THROWS_WITH_AS(vkattn::ops::max_pool2d(g, x, {2, 2}, {2, 2}, {2, 0}), doctest::Contains("half the kernel"),
                       vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::ops::avg_pool2d(g, x, {5, 5}, {1, 1}), doctest::Contains("larger than"), vkattn::Error);
  CHECK_THROWS_AS(vkattn::ops::max_pool2d(g, g.input("flat", {2, 8}), {2, 2}, {2, 2}), vkattn::Error);
}

TEST_CASE("global average pooling matches the reference on planes smaller and larger than a workgroup") {
  test::NoValidationMessages guard;
  for (const vkattn::reference::Image in :
       {vkattn::reference::Image{1, 1, 1, 1}, {2, 3, 7, 13}, {3, 40, 16, 16}, {1, 5, 128, 128}}) {
    CAPTURE(in.B); CAPTURE(in.C); CAPTURE(in.H); CAPTURE(in.W);
    const auto x = test::random_tensor({in.B, in.C, in.H, in.W});
    vkattn::Graph g;
    g.output("y", vkattn::ops::global_avg_pool2d(g, g.input("x", x.shape)));
    const auto y = test::run_graph(g, {{"x", x}}, "y");
    CHECK(y.shape == vkattn::Shape{in.B, in.C, 1, 1});
    test::check_close(y.data, vkattn::reference::global_avg_pool2d(test::widen(x.data), in));
  }
}
