// The whole SAGAN block, through add_self_attention, against a double-precision composition of
// the reference kernels.
#include <cmath>

#include "gpu.h"

namespace {

struct Expected {
  std::vector<double> y, attention;
};

Expected reference_block(const vkattn::HostTensor& x, const vkattn::SelfAttentionWeights& w) {
  namespace ref = vkattn::reference;
  const int64_t B = x.shape[0], C = w.channels, Cq = w.query_channels, N = x.shape[2] * x.shape[3];
  const auto q = ref::projection(x.data, w.query_weight.data, w.query_bias.data, B, C, Cq, N);
  const auto k = ref::projection(x.data, w.key_weight.data, w.key_bias.data, B, C, Cq, N);
  const auto v = ref::projection(x.data, w.value_weight.data, w.value_bias.data, B, C, C, N);
  Expected e;
  e.attention = ref::softmax(ref::scores(q, k, B, Cq, N, w.scale), B * N, N);
  e.y = ref::residual(ref::attend(v, e.attention, B, C, N), test::widen(x.data), w.gamma);
  return e;
}

}  // namespace

TEST_CASE("self-attention block matches the reference") {
  test::NoValidationMessages guard;
  struct Case { int64_t B, C, Cq, H, W; float scale; };
  for (const Case& c : {Case{1, 1, 1, 1, 1, 1.f}, Case{3, 8, 1, 7, 13, 1.f}, Case{1, 8, 5, 7, 13, 1.f},
                        Case{2, 40, 5, 7, 13, 1.f / std::sqrt(5.f)}, Case{3, 72, 9, 32, 32, 1.f},
                        Case{1, 8, 1, 64, 64, 1.f}, Case{3, 72, 9, 64, 64, 1.f / 3.f}}) {
    CAPTURE(c.B); CAPTURE(c.C); CAPTURE(c.Cq); CAPTURE(c.H); CAPTURE(c.W);
    const auto w = test::random_weights(c.C, c.Cq, c.scale);
    const auto x = test::random_tensor({c.B, c.C, c.H, c.W});
    vkattn::Graph g;
    const auto block = vkattn::add_self_attention(g, g.input("x", x.shape), w);
    g.output("y", block.y);
    g.output("attention", block.attention);
    vkattn::Executor exec(test::gpu(), g);
    exec.set_input("x", x);
    exec.fill_outputs(NAN);
    exec.run();
    const Expected e = reference_block(x, w);
    test::check_close(exec.output("y").data, e.y);
    test::check_close(exec.output("attention").data, e.attention);
  }
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
