// scores S = scale * Q^T K, with Q and K read as channel slices of one tensor.
#include <cmath>

#include "gpu.h"

TEST_CASE("scores match the reference, including maps split over the batch") {
  test::NoValidationMessages guard;
  for (int64_t Cq : {1, 5, 9})
    for (const test::Spatial& s : test::kSpatialShapes)
      for (int64_t B : {1, 3}) {
        const int64_t N = s.h * s.w, C = 2 * Cq + 3;  // q, k, then channels the op must skip
        const float scale = (Cq == 5) ? 1.f / std::sqrt(5.f) : 1.f;
        CAPTURE(B); CAPTURE(Cq); CAPTURE(N);
        const auto qkv = test::random_tensor({B, C, s.h, s.w});
        vkattn::Graph g;
        const auto in = g.input("qkv", qkv.shape);
        g.output("s", vkattn::ops::scores(g, {in, 0, Cq}, {in, Cq, Cq}, scale));
        const auto out = test::run_graph(g, {{"qkv", qkv}}, "s");
        CHECK(out.shape == vkattn::Shape{B, N, N});

        std::vector<double> q(B * Cq * N), k(B * Cq * N);
        for (int64_t b = 0; b < B; ++b)
          for (int64_t c = 0; c < Cq; ++c)
            for (int64_t n = 0; n < N; ++n) {
              q[(b * Cq + c) * N + n] = qkv.data[(b * C + c) * N + n];
              k[(b * Cq + c) * N + n] = qkv.data[(b * C + Cq + c) * N + n];
            }
        test::check_close(out.data, vkattn::reference::scores(q, k, B, Cq, N, scale));
      }
}

TEST_CASE("scores reject query and key that do not match") {
  vkattn::Graph g;
  const auto a = g.input("a", {2, 4, 3, 3});
  const auto b = g.input("b", {2, 4, 3, 4});
  CHECK_THROWS_AS(vkattn::ops::scores(g, {a, 0, 2}, {b, 0, 2}, 1.f), vkattn::Error);  // N differs
  CHECK_THROWS_AS(vkattn::ops::scores(g, {a, 0, 2}, {a, 2, 3}, 1.f), vkattn::Error);  // Cq differs
  CHECK_THROWS_AS(vkattn::ops::scores(g, {a, 3, 2}, {a, 0, 2}, 1.f), vkattn::Error);  // outside
}
