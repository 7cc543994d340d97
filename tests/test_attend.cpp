// attend O = V A^T, with V read as a channel slice.
#include "gpu.h"

namespace {
// Rows that sum to one, like a softmax output.
vkattn::HostTensor random_attention(int64_t B, int64_t N) {
  auto a = test::random_tensor({B, N, N}, 0.f, 1.f);
  for (int64_t r = 0; r < B * N; ++r) {
    double sum = 0;
    for (int64_t j = 0; j < N; ++j) sum += a.data[r * N + j];
    for (int64_t j = 0; j < N; ++j) a.data[r * N + j] = static_cast<float>(a.data[r * N + j] / sum);
  }
  return a;
}
}  // namespace

TEST_CASE("attend matches the reference on shapes with remainders") {
  test::NoValidationMessages guard;
  for (int64_t Cv : {1, 8, 40, 72})
    for (const test::Spatial& s : test::kSpatialShapes)
      for (int64_t B : {1, 3}) {
        if (s.h == 64 && Cv * B > 72) continue;  // keeps the run short on a CPU driver; (3, 72, 64x64) runs in test_block
        const int64_t N = s.h * s.w, first = 2, C = Cv + first + 1;
        CAPTURE(B); CAPTURE(Cv); CAPTURE(N);
        const auto v = test::random_tensor({B, C, s.h, s.w});
        const auto a = random_attention(B, N);
        vkattn::Graph g;
        g.output("o", vkattn::ops::attend(g, {g.input("v", v.shape), first, Cv}, g.input("a", a.shape)));
        const auto o = test::run_graph(g, {{"v", v}, {"a", a}}, "o");
        CHECK(o.shape == vkattn::Shape{B, Cv, s.h, s.w});
        std::vector<double> vs(B * Cv * N);
        for (int64_t b = 0; b < B; ++b)
          for (int64_t c = 0; c < Cv; ++c)
            for (int64_t n = 0; n < N; ++n) vs[(b * Cv + c) * N + n] = v.data[(b * C + first + c) * N + n];
        test::check_close(o.data, vkattn::reference::attend(vs, test::widen(a.data), B, Cv, N));
      }
}

TEST_CASE("attend rejects a map of the wrong shape") {
  vkattn::Graph g;
  const auto v = g.input("v", {2, 4, 3, 3});
  CHECK_THROWS_WITH_AS(vkattn::ops::attend(g, {v, 0, 4}, g.input("a", {2, 9, 8})), doctest::Contains("attention map"),
                       vkattn::Error);
  CHECK_THROWS_AS(vkattn::ops::attend(g, {v, 2, 4}, g.input("a2", {2, 9, 9})), vkattn::Error);
}
