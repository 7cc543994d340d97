// PyTorch's nn.MultiheadAttention(C, h) as self-attention over the H*W positions of a feature map
// (Vaswani et al. 2017), each position a token of C channels:
//   [Q; K; V] = W_in x + b_in                          (W_in (3C, C): three 1x1 convolutions)
//   head t, channels [t d, (t + 1) d), d = C / h:
//     A_t[b, i, :] = softmax_j(q_t,i . k_t,j / sqrt(d)),   O_t = V_t A_t^T
//   y = W_out [O_0; ...; O_h-1] + b_out  (+ x with residual)
// The map is the heads' mean of A_t (B, N, N), what PyTorch returns by default; each head's
// A_t stacked, (B, h, N, N), is PyTorch's average_attn_weights=False.
#pragma once
#include <optional>
#include <string>

#include "vkattn/graph.h"
#include "vkattn/io.h"

namespace vkattn {

struct MultiheadAttentionWeights {
  int64_t channels = 0;  // C, the embedding size
  int64_t heads = 1;     // h, dividing C
  HostTensor in_proj_weight, in_proj_bias;    // (3C, C), (3C)
  HostTensor out_proj_weight, out_proj_bias;  // (C, C), (C)
  bool residual = false;                      // y + x

  // Reads PyTorch state_dict() names: <prefix>in_proj_weight, <prefix>in_proj_bias,
  // <prefix>out_proj.weight, <prefix>out_proj.bias; checks their shapes and that heads divide C.
  static MultiheadAttentionWeights from_safetensors(const SafeTensors& file, const std::string& prefix,
                                                    int64_t heads, bool residual);
};

struct MultiheadAttentionTensors {
  TensorId y;                         // (B, C, H, W)
  std::optional<TensorId> attention;  // (B, N, N), the heads' mean, when asked for
  std::optional<TensorId> head_attention;  // (B, h, N, N), each head's map, when asked for
};

// Adds the layer to a graph, reading x (B, C, H, W); its weights are named name_prefix + ...
// Each head runs fused (no (N, N) scores stored); the maps, when asked for, are written per head
// in blocks of rows, then averaged (attention_map) or stacked (head_maps).
MultiheadAttentionTensors add_multihead_attention(Graph& graph, TensorId x, const MultiheadAttentionWeights& weights,
                                                  const std::string& name_prefix = "", bool attention_map = false,
                                                  bool head_maps = false);

}  // namespace vkattn
