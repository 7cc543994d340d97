// sigmoid on any shape, over inputs where e^-x overflows and underflows.
#include "gpu.h"

TEST_CASE("sigmoid matches the reference") {
  test::check_op("sigmoid", {{{"shape", {1}}}, {{"shape", {3, 7, 13}}}, {{"shape", {2, 16, 28, 28}}}});
}
