// Row softmax and log_softmax: numerically stable for any row length, including rows longer than a workgroup.
#include "gpu.h"

TEST_CASE("softmax matches the reference for row lengths from 1 to 16384") {
  std::vector<vkattn::conformance::Spec> specs;
  for (int64_t L : {1, 2, 7, 255, 256, 257, 1000, 4097, 16384})
    for (int64_t rows : {1, 3, 37})
      for (int64_t B : {1, 2}) specs.push_back({{"B", B}, {"rows", rows}, {"L", L}});
  test::check_op("softmax", specs);
}

TEST_CASE("softmax of a 1-D tensor is one row") { test::check_op("softmax", {{{"shape", {300}}}}); }

TEST_CASE("log_softmax matches the reference where softmax underflows") {
  std::vector<vkattn::conformance::Spec> specs;
  for (int64_t L : {1, 2, 10, 255, 257, 4097})
    for (int64_t rows : {1, 7}) specs.push_back({{"B", 2}, {"rows", rows}, {"L", L}});
  test::check_op("log_softmax", specs);
}
