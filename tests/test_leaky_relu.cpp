// leaky_relu on any shape and slope.
#include "gpu.h"

TEST_CASE("leaky_relu matches the reference") {
  test::check_op("leaky_relu", {{{"shape", {1}}, {"slope", 0.01}},
                                {{"shape", {3, 7, 13}}, {"slope", 0.1}},
                                {{"shape", {2, 16, 28, 28}}, {"slope", -0.5}}});
}

TEST_CASE("leaky_relu refuses a slope that is not a number") {
  vkattn::Graph g;
  CHECK_THROWS_WITH_AS(vkattn::ops::leaky_relu(g, g.input("x", {1, 4}), NAN), doctest::Contains("finite"),
                       vkattn::Error);
}
