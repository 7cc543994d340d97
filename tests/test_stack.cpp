// stack: tensors of one shape along a new dimension 1; tensors that differ are refused.
#include "gpu.h"

TEST_CASE("stack matches a copy made on the host") {
  test::check_op("stack", {{{"B", 1}, {"k", 1}, {"shape", {1}}},
                           {{"B", 2}, {"k", 5}, {"shape", {3, 11, 13}}},
                           {{"B", 4}, {"k", 2}, {"shape", {1000}}}});
}

TEST_CASE("stack gives (B, k, ...) and refuses tensors of different shapes") {
  vkattn::Graph g;
  const auto a = g.input("a", {2, 3, 4}), b = g.input("b", {2, 3, 4}), c = g.input("c", {2, 4, 3});
  CHECK(g.shape(vkattn::ops::stack(g, {a, b, a})) == vkattn::Shape{2, 3, 3, 4});
  CHECK_THROWS_WITH(vkattn::ops::stack(g, {a, c}), doctest::Contains("every tensor must have the first one's shape"));
  CHECK_THROWS_WITH(vkattn::ops::stack(g, {}), doctest::Contains("at least one tensor"));
}
