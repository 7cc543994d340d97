// Row softmax: numerically stable for any row length, including rows longer than a workgroup.
#include "gpu.h"

TEST_CASE("softmax matches the reference for row lengths from 1 to 16384") {
  test::NoValidationMessages guard;
  for (int64_t L : {1, 2, 7, 255, 256, 257, 1000, 4097, 16384})
    for (int64_t rows : {1, 3, 37})
      for (int64_t B : {1, 2}) {
        CAPTURE(L); CAPTURE(rows); CAPTURE(B);
        // Large, shifted logits: a softmax that does not subtract the row max overflows on these.
        auto x = test::random_tensor({B, rows, L}, -30.f, 30.f);
        for (float& v : x.data) v += 500.f;
        vkattn::Graph g;
        g.output("y", vkattn::ops::softmax(g, g.input("x", x.shape)));
        const auto y = test::run_graph(g, {{"x", x}}, "y");
        test::check_close(y.data, vkattn::reference::softmax(test::widen(x.data), B * rows, L));
      }
}

TEST_CASE("softmax of a 1-D tensor is one row") {
  test::NoValidationMessages guard;
  const auto x = test::random_tensor({300}, -5.f, 5.f);
  vkattn::Graph g;
  g.output("y", vkattn::ops::softmax(g, g.input("x", x.shape)));
  test::check_close(test::run_graph(g, {{"x", x}}, "y").data, vkattn::reference::softmax(test::widen(x.data), 1, 300));
}
