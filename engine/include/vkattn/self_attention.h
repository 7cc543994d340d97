// The SAGAN self-attention block (Zhang et al. 2018):
//   Q = Wq x + bq, K = Wk x + bk, V = Wv x + bv      (1x1 convolutions)
//   A[b, i, :] = softmax_j(score(Q[b, :, i], K[b, :, j]))
//   y = gamma * (V A^T) + x
// with the score one of the similarities below.
#pragma once
#include <optional>
#include <string>

#include "vkattn/graph.h"
#include "vkattn/io.h"

namespace vkattn {

// How a query q and a key k score against each other, before the softmax over keys:
//   dot         scale * q.k (SAGAN, scale 1)
//   scaled_dot  scale * q.k, scale 1/sqrt(Cq) unless given (Vaswani et al. 2017)
//   cosine      scale * (q / max(|q|, 1e-12)) . (k / max(|k|, 1e-12)), as F.normalize
//   additive    scale * sum_c u_c tanh(q_c + k_c) (Bahdanau et al. 2015), u the (1, Cq) weight
//               <prefix>additive.weight (an nn.Linear(Cq, 1, bias=False) named "additive")
enum class Similarity { dot, scaled_dot, cosine, additive };
// "dot", "scaled_dot", "cosine" or "additive"; anything else is an Error that names `where`.
Similarity parse_similarity(const std::string& name, const std::string& where);
// The scale a similarity uses when none is given: 1/sqrt(Cq) for scaled_dot, 1 otherwise.
float default_scale(Similarity similarity, int64_t query_channels);

struct SelfAttentionWeights {
  int64_t channels = 0;        // C
  int64_t query_channels = 0;  // Cq (C/8 in SAGAN; any value >= 1)
  HostTensor query_weight, query_bias, key_weight, key_bias, value_weight, value_bias;  // (M, C), (M)
  float gamma = 0;
  float scale = 1;  // 1 in SAGAN; 1/sqrt(Cq) for scaled dot-product attention
  Similarity similarity = Similarity::dot;
  HostTensor additive_weight = {};  // (1, Cq), for the additive similarity only

  // Reads PyTorch state_dict() names: <prefix>query_conv.weight (Cq, C, 1, 1), .bias (Cq),
  // key_conv.*, value_conv.weight (C, C, 1, 1), value_conv.bias, gamma (1). With prefix "auto"
  // the prefix is taken from the one tensor whose name ends in "query_conv.weight". Shapes are
  // checked against each other; the optional metadata keys "<prefix>similarity" and
  // "<prefix>scale" (a number, whole string) set the similarity and the scale.
  static SelfAttentionWeights from_safetensors(const SafeTensors& file, const std::string& prefix = "auto");
};

struct SelfAttentionTensors {
  TensorId y;                         // (B, C, H, W)
  std::optional<TensorId> attention;  // (B, N, N), when asked for
};

// Adds the block to a graph, reading x of shape (B, C, H, W); weights are named name_prefix + ...
// The block runs fused: the (N, N) scores are never stored, so its memory grows with N, not N^2.
// With attention_map the map is also written, in blocks of rows, as a tensor of its own (B, N, N):
// its size is bounded by device memory, not by one binding.
SelfAttentionTensors add_self_attention(Graph& graph, TensorId x, const SelfAttentionWeights& weights,
                                        const std::string& name_prefix = "", bool attention_map = false);

}  // namespace vkattn
