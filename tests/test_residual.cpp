// residual y = gamma * o + x.
#include "gpu.h"

TEST_CASE("residual matches the reference") {
  test::check_op("residual", {{{"B", 1}, {"C", 1}, {"H", 1}, {"W", 1}},
                              {{"B", 3}, {"C", 8}, {"H", 7}, {"W", 13}},
                              {{"B", 2}, {"C", 40}, {"H", 32}, {"W", 32}},
                              {{"B", 1}, {"C", 3}, {"H", 257}, {"W", 1}}});
}

TEST_CASE("residual rejects mismatched shapes and a gamma with more than one value") {
  vkattn::Graph g;
  const auto o = g.input("o", {1, 2, 3, 3}), x = g.input("x", {1, 2, 3, 4});
  CHECK_THROWS_AS(vkattn::ops::residual(g, o, x, g.weight("g", {{1}, {1.f}})), vkattn::Error);
  CHECK_THROWS_AS(vkattn::ops::residual(g, o, o, g.weight("g2", {{2}, {1.f, 2.f}})), vkattn::Error);
}
