// tanh on any shape, near zero (the series) and far from it.
#include "gpu.h"

TEST_CASE("tanh matches the reference") {
  test::check_op("tanh", {{{"shape", {1}}, {"range", 12.0}},
                          {{"shape", {3, 7, 13}}, {"range", 0.3}},
                          {{"shape", {2, 16, 28, 28}}, {"range", 6.0}}});
}
