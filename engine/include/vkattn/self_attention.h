// The SAGAN self-attention block (Zhang et al. 2018):
//   Q = Wq x + bq, K = Wk x + bk, V = Wv x + bv      (1x1 convolutions)
//   A[b, i, :] = softmax_j(scale * sum_c Q[b, c, i] K[b, c, j])
//   y = gamma * (V A^T) + x
#pragma once
#include <optional>
#include <string>

#include "vkattn/graph.h"
#include "vkattn/io.h"

namespace vkattn {

struct SelfAttentionWeights {
  int64_t channels = 0;        // C
  int64_t query_channels = 0;  // Cq (C/8 in SAGAN; any value >= 1)
  HostTensor query_weight, query_bias, key_weight, key_bias, value_weight, value_bias;  // (M, C), (M)
  float gamma = 0;
  float scale = 1;  // 1 in SAGAN; 1/sqrt(Cq) for scaled dot-product attention

  // Reads PyTorch state_dict() names: <prefix>query_conv.weight (Cq, C, 1, 1), .bias (Cq),
  // key_conv.*, value_conv.weight (C, C, 1, 1), value_conv.bias, gamma (1). With prefix "auto"
  // the prefix is taken from the one tensor whose name ends in "query_conv.weight". Shapes are
  // checked against each other; the optional metadata key "<prefix>scale" sets scale.
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
