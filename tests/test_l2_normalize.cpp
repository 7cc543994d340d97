// l2_normalize along channels and along rows, whole axes and parts, zero vectors.
#include "gpu.h"

TEST_CASE("l2_normalize matches the reference") {
  test::check_op("l2_normalize", {{{"shape", {2, 8, 5, 7}}, {"along", "channels"}, {"first", 0}, {"count", 8}},
                                  {{"shape", {3, 11, 2, 3}}, {"along", "channels"}, {"first", 3}, {"count", 5}, {"zero", true}},
                                  {{"shape", {2, 97, 40}}, {"along", "rows"}, {"first", 0}, {"count", 7}, {"zero", true}}});
}

TEST_CASE("l2_normalize refuses entries outside the axis") {
  vkattn::Graph g;
  CHECK_THROWS_WITH_AS(vkattn::ops::l2_normalize(g, g.input("x", {1, 4, 9}), vkattn::ops::NormalizeAlong::rows, 5, 5),
                       doctest::Contains("lie outside"), vkattn::Error);
}
