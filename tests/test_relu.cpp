// relu on any shape.
#include "gpu.h"

TEST_CASE("relu matches the reference") {
  test::check_op("relu", {{{"shape", {1}}}, {{"shape", {3, 7, 13}}}, {{"shape", {2, 16, 28, 28}}}});
}
