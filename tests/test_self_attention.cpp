// The whole SAGAN block, through add_self_attention, against a float64 composition of its
// parts' references: the output and the attention map.
#include <cmath>

#include "gpu.h"

TEST_CASE("self-attention block matches the reference") {
  struct Case { int64_t B, C, Cq, H, W; double scale; };
  std::vector<vkattn::conformance::Spec> specs;
  for (const Case& c : {Case{1, 1, 1, 1, 1, 1.0}, Case{3, 8, 1, 7, 13, 1.0}, Case{1, 8, 5, 7, 13, 1.0},
                        Case{2, 40, 5, 7, 13, 1 / std::sqrt(5.0)}, Case{3, 72, 9, 32, 32, 1.0},
                        Case{1, 8, 1, 64, 64, 1.0}, Case{3, 72, 9, 64, 64, 1 / 3.0},
                        Case{1, 4, 1, 80, 80, 1.0}})  // a 156 MiB map: blocks of rows on lavapipe
    specs.push_back({{"B", c.B}, {"C", c.C}, {"Cq", c.Cq}, {"H", c.H}, {"W", c.W}, {"scale", c.scale}, {"map", true}});
  test::check_op("self_attention", specs);
}

TEST_CASE("a block runs again with new input and gives the same answer as a fresh executor") {
  test::NoValidationMessages guard;
  const auto w = test::random_weights(16, 2, 1.f);
  vkattn::Graph g;
  g.output("y", vkattn::add_self_attention(g, g.input("x", {2, 16, 5, 6}), w).y);
  vkattn::Executor exec(test::gpu(), g);
  std::vector<vkattn::HostTensor> inputs, outputs;
  for (int i = 0; i < 3; ++i) {
    inputs.push_back(test::random_tensor({2, 16, 5, 6}));
    exec.set_input("x", inputs.back());
    exec.run();
    outputs.push_back(exec.output("y"));
  }
  for (int i = 0; i < 3; ++i) {
    vkattn::Executor fresh(test::gpu(), g);
    fresh.set_input("x", inputs[i]);
    fresh.run();
    CHECK(fresh.output("y").data == outputs[i].data);  // same kernels, same order: bit-identical
  }
}
