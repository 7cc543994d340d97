// Attention output O = V A^T (shaders/attend.comp).
#include "attend.spv.h"
#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {
namespace {

struct Attend final : Op {
  explicit Attend(ChannelSlice v) : v_(v) {}
  std::string name() const override { return "attend"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    require_activation(in[0], name(), "value");
    require(v_.count >= 1 && v_.first >= 0 && v_.first + v_.count <= in[0][1],
            "attend: the value channels lie outside their tensor " + to_string(in[0]) + ".");
    const int64_t N = spatial_size(in[0]);
    require(in[1].size() == 3 && in[1][0] == in[0][0] && in[1][1] == N && in[1][2] == N,
            "attend: the attention map must be (" + std::to_string(in[0][0]) + ", " + std::to_string(N) + ", " +
                std::to_string(N) + ") for values " + to_string(in[0]) + ", but it is " + to_string(in[1]) + ".");
    Shape out = in[0];
    out[1] = v_.count;
    return {out};
  }

  Dispatch dispatch(const NodeShapes& n) const override {
    const uint64_t N = spatial_size(n.in_shape[0]), cv = v_.count, v_stride = n.in_shape[0][1] * N;
    return gemm_dispatch("attend", attend_spv,
                         {{n.in[0], v_.first * N, v_stride}, {n.in[1], 0, N * N}, {n.out[0], 0, cv * N}},
                         n.in_shape[0][0], {cv, N, N, v_stride, N * N, cv * N, 1.0f});
  }

  double flops(const NodeShapes& n) const override {
    const double N = spatial_size(n.in_shape[0]);
    return 2.0 * n.in_shape[0][0] * v_.count * N * N;
  }

 private:
  ChannelSlice v_;
};

}  // namespace

TensorId ops::attend(Graph& g, ChannelSlice value, TensorId attention) {
  return add(g, std::make_shared<Attend>(value), {value.tensor, attention})[0];
}

// Not a layer of its own: the self_attention layer builds it.
void register_attend(Registry& r) { r.add("attend"); }

}  // namespace vkattn
