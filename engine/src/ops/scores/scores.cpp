// Attention scores S = scale * Q^T K (shaders/scores.comp).
#include "ops/op.h"
#include "ops/registry.h"
#include "scores.spv.h"

namespace vkattn {
namespace {

struct Scores final : Op {
  Scores(ChannelSlice q, ChannelSlice k, float scale) : q_(q), k_(k), scale_(scale) {}
  std::string name() const override { return "scores"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    require_activation(in[0], name(), "query");
    require_activation(in[1], name(), "key");
    require(q_.count >= 1 && q_.count == k_.count,
            "scores: query and key need the same number of channels (>= 1), not " + std::to_string(q_.count) +
                " and " + std::to_string(k_.count) + ".");
    require(q_.first >= 0 && q_.first + q_.count <= in[0][1] && k_.first >= 0 && k_.first + k_.count <= in[1][1],
            "scores: the query or key channels lie outside their tensors.");
    require(in[0][0] == in[1][0] && spatial_size(in[0]) == spatial_size(in[1]),
            "scores: query " + to_string(in[0]) + " and key " + to_string(in[1]) +
                " differ in batch or number of positions.");
    const int64_t N = spatial_size(in[0]);
    return {{in[0][0], N, N}};
  }

  Dispatch dispatch(const NodeShapes& n) const override {
    const uint64_t N = spatial_size(n.in_shape[0]), cq = q_.count;
    const uint64_t q_stride = n.in_shape[0][1] * N, k_stride = n.in_shape[1][1] * N;
    return gemm_dispatch("scores", scores_spv,
                         {{n.in[0], q_.first * N, q_stride}, {n.in[1], k_.first * N, k_stride}, {n.out[0], 0, N * N}},
                         n.in_shape[0][0], {N, N, cq, q_stride, k_stride, N * N, scale_});
  }

  double flops(const NodeShapes& n) const override {
    const double N = spatial_size(n.in_shape[0]);
    return 2.0 * n.in_shape[0][0] * N * N * q_.count;
  }

 private:
  ChannelSlice q_, k_;
  float scale_;
};

}  // namespace

TensorId ops::scores(Graph& g, ChannelSlice query, ChannelSlice key, float scale) {
  return add(g, std::make_shared<Scores>(query, key, scale), {query.tensor, key.tensor})[0];
}

// Not a layer of its own: the self_attention layer builds it.
void register_scores(Registry& r) { r.add("scores"); }

}  // namespace vkattn
