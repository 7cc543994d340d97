// scores S = scale * Q^T K, with Q and K read as channel slices of one tensor.
#include <cmath>

#include "gpu.h"

TEST_CASE("scores match the reference, including maps split over the batch") {
  std::vector<vkattn::conformance::Spec> specs;
  for (int64_t Cq : {1, 5, 9})
    for (const test::Spatial& s : test::kSpatialShapes)
      for (int64_t B : {1, 3})  // q and k as slices of one tensor, as the block reads them
        specs.push_back({{"B", B}, {"Cq", Cq}, {"N", s.h * s.w}, {"scale", Cq == 5 ? 1 / std::sqrt(5.0) : 1.0},
                         {"sliced", true}});
  test::check_op("scores", specs);
}

TEST_CASE("scores reject query and key that do not match") {
  vkattn::Graph g;
  const auto a = g.input("a", {2, 4, 3, 3});
  const auto b = g.input("b", {2, 4, 3, 4});
  CHECK_THROWS_AS(vkattn::ops::scores(g, {a, 0, 2}, {b, 0, 2}, 1.f), vkattn::Error);  // N differs
  CHECK_THROWS_AS(vkattn::ops::scores(g, {a, 0, 2}, {a, 2, 3}, 1.f), vkattn::Error);  // Cq differs
  CHECK_THROWS_AS(vkattn::ops::scores(g, {a, 3, 2}, {a, 0, 2}, 1.f), vkattn::Error);  // outside
}
