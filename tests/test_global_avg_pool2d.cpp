// global_avg_pool2d on planes smaller and larger than a workgroup.
#include "gpu.h"

TEST_CASE("global average pooling matches the reference") {
  test::check_op("global_avg_pool2d", {{{"B", 1}, {"C", 1}, {"H", 1}, {"W", 1}},
                                       {{"B", 2}, {"C", 3}, {"H", 7}, {"W", 13}},
                                       {{"B", 3}, {"C", 40}, {"H", 16}, {"W", 16}},
                                       {{"B", 250}, {"C", 96}, {"H", 7}, {"W", 7}},
                                       {{"B", 2}, {"C", 67}, {"H", 32}, {"W", 32}},
                                       {{"B", 2}, {"C", 2}, {"H", 31}, {"W", 34}},
                                       {{"B", 1}, {"C", 5}, {"H", 128}, {"W", 128}}});
}

TEST_CASE("global average pooling gives (B, C, 1, 1) and takes only images") {
  vkattn::Graph g;
  CHECK(g.shape(vkattn::ops::global_avg_pool2d(g, g.input("x", {2, 3, 5, 7}))) == vkattn::Shape{2, 3, 1, 1});
  CHECK_THROWS_AS(vkattn::ops::global_avg_pool2d(g, g.input("flat", {2, 8})), vkattn::Error);
}
