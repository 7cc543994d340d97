// residual y = gamma * o + x.
#include "gpu.h"

TEST_CASE("residual matches the reference") {
  test::NoValidationMessages guard;
  for (const vkattn::Shape& shape : {vkattn::Shape{1, 1, 1, 1}, {3, 8, 7, 13}, {2, 40, 32, 32}, {1, 3, 257}}) {
    CAPTURE(vkattn::to_string(shape));
    const auto o = test::random_tensor(shape), x = test::random_tensor(shape);
    const float gamma = test::random_values(1, -2.f, 2.f)[0];
    vkattn::Graph g;
    g.output("y", vkattn::ops::residual(g, g.input("o", shape), g.input("x", shape),
                                        g.weight("gamma", {{1}, {gamma}})));
    const auto y = test::run_graph(g, {{"o", o}, {"x", x}}, "y");
    test::check_close(y.data, vkattn::reference::residual(test::widen(o.data), test::widen(x.data), gamma));
  }
}

TEST_CASE("residual rejects mismatched shapes and a gamma with more than one value") {
  vkattn::Graph g;
  const auto o = g.input("o", {1, 2, 3, 3}), x = g.input("x", {1, 2, 3, 4});
  CHECK_THROWS_AS(vkattn::ops::residual(g, o, x, g.weight("g", {{1}, {1.f}})), vkattn::Error);
  CHECK_THROWS_AS(vkattn::ops::residual(g, o, o, g.weight("g2", {{2}, {1.f, 2.f}})), vkattn::Error);
}
