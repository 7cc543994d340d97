// flatten keeps the data in order.
#include "gpu.h"

TEST_CASE("flatten keeps the data in order and gives (B, rest)") {
  test::check_op("flatten", {{{"shape", {1, 1, 1, 1}}}, {{"shape", {3, 5, 7, 13}}}, {{"shape", {2, 300}}}});
  vkattn::Graph g;
  CHECK(g.shape(vkattn::ops::flatten(g, g.input("x", {3, 5, 7, 13}))) == vkattn::Shape{3, 455});
  CHECK_THROWS_AS(vkattn::ops::flatten(g, g.input("y", {5})), vkattn::Error);
}
