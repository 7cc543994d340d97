// Stand-alone local self-attention (SASA, Ramachandran et al. 2019): each position attends to
// the K x K window around it, with learned relative embeddings, in one fused pass per position
// (shaders/local_attention.comp). The layer projects q, k and v with one stacked 1x1 convolution.
#include <array>

#include "local_attention.spv.h"
#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {
namespace {

std::string str(int64_t v) { return std::to_string(v); }

// The checks the builder and the layer share: one sentence each, naming `what`.
void require_heads(int64_t channels, int64_t heads, int64_t kernel, const std::string& what) {
  require(kernel >= 1 && kernel % 2 == 1,
          what + ": the kernel size must be odd (a window centred on its position), but it is " + str(kernel) + ".");
  require(heads >= 1 && channels % heads == 0,
          what + ": " + str(heads) + " heads do not divide its " + str(channels) + " channels.");
  require((channels / heads) % 2 == 0, what + ": each head's " + str(channels / heads) +
                                           " channels must be even (half take the row embedding, half the column's).");
}

void require_embedding(const Shape& rel, int64_t d, int64_t kernel, const std::string& what,
                       const std::string& name) {
  require(rel == Shape{d / 2, kernel}, what + ": " + name + " must be (" + str(d / 2) + ", " + str(kernel) +
                                           ") for heads of " + str(d) + " channels and a kernel of " + str(kernel) +
                                           ", but it is " + to_string(rel) + ".");
}

struct LocalAttentionOp final : Op {
  LocalAttentionOp(std::array<ChannelSlice, 3> qkv, int64_t heads, int64_t kernel, bool map)
      : qkv_(qkv), heads_(heads), kernel_(kernel), map_(map) {}
  std::string name() const override { return "local_attention"; }

  // Inputs q, k, v (the slices' tensors), rel_h, rel_w. Outputs y and, when asked, the map.
  std::vector<Shape> infer(std::span<const Shape> in) const override {
    const char* names[] = {"query", "key", "value"};
    const int64_t C = qkv_[0].count;
    for (int t = 0; t < 3; ++t) {
      const Shape& s = in[t];
      require(s.size() == 4 && element_count(s) >= 1,
              std::string("local_attention: the ") + names[t] + " must be (B, C, H, W) with no zero size, but it is " +
                  to_string(s) + ".");
      require(C >= 1 && qkv_[t].first >= 0 && qkv_[t].count == C && qkv_[t].first + C <= s[1],
              std::string("local_attention: the ") + names[t] + " must be " + str(C) + " channels inside " +
                  to_string(s) + ", as many as the query's.");
      require(s[0] == in[0][0] && s[2] == in[0][2] && s[3] == in[0][3],
              std::string("local_attention: the ") + names[t] + " " + to_string(s) +
                  " must have the query's batch and image size " + to_string(in[0]) + ".");
    }
    require_heads(C, heads_, kernel_, name());
    require_embedding(in[3], C / heads_, kernel_, name(), "rel_h");
    require_embedding(in[4], C / heads_, kernel_, name(), "rel_w");
    const int64_t B = in[0][0], H = in[0][2], W = in[0][3];
    std::vector<Shape> out = {{B, C, H, W}};
    if (map_) out.push_back({B, heads_, H * W, kernel_ * kernel_});
    return out;
  }

  Dispatch dispatch(const NodeShapes& n) const override {
    const Shape& x = n.in_shape[0];
    const uint64_t N = spatial_size(x), C = qkv_[0].count, d = C / heads_;
    std::vector<Operand> operands;
    std::vector<uint32_t> strides;
    for (int t = 0; t < 3; ++t) {  // only the head channels' window of each item is bound
      const uint64_t stride = n.in_shape[t][1] * N;
      operands.push_back({n.in[t], qkv_[t].first * N, stride, C * N, BindAs::FloatTexels});
      strides.push_back(u32(stride));
    }
    operands.push_back({n.in[3], 0, 0, 0, BindAs::FloatTexels});
    operands.push_back({n.in[4], 0, 0, 0, BindAs::FloatTexels});
    operands.push_back({n.out[0], 0, C * N});
    // Without the map, binding 6 is y again: the kernel never writes it.
    operands.push_back({n.out[map_ ? 1 : 0], 0, map_ ? heads_ * N * kernel_ * kernel_ : C * N});
    Dispatch d_{name(), local_attention_spv, std::move(operands),
                {u32(x[2]), u32(x[3]), u32(heads_), strides[0], strides[1], strides[2]}};
    d_.batches = x[0];
    d_.groups_per_batch = ceil_div(heads_ * N, threads_per_group(local_attention_spv));
    d_.specialization = {u32(d), u32(kernel_), map_};
    return d_;
  }

  // Per position and window entry: the score (d multiply-adds, d adds) and the value (d).
  double flops(const NodeShapes& n) const override {
    return 6.0 * element_count(n.out_shape[0]) * kernel_ * kernel_;
  }

 private:
  std::array<ChannelSlice, 3> qkv_;
  int64_t heads_, kernel_;
  bool map_;
};

// One (M, C) matrix from a 1x1 convolution weight (M, C, 1, 1) or (M, C).
Shape conv_matrix(const Shape& s, const std::string& name) {
  require((s.size() == 2 || (s.size() == 4 && s[2] == 1 && s[3] == 1)) && s[0] >= 1 && s[1] >= 1,
          "'" + name + "' must be a 1x1 convolution weight (M, C, 1, 1), but it is " + to_string(s) + ".");
  return {s[0], s[1]};
}

}  // namespace

ops::LocalAttention ops::local_attention(Graph& g, ChannelSlice q, ChannelSlice k, ChannelSlice v, TensorId rel_h,
                                         TensorId rel_w, int64_t heads, int64_t kernel_size, bool map) {
  const auto out = add(g, std::make_shared<LocalAttentionOp>(std::array{q, k, v}, heads, kernel_size, map),
                       {q.tensor, k.tensor, v.tensor, rel_h, rel_w});
  return {out[0], map ? std::optional(out[1]) : std::nullopt};
}

// {"type": "local_self_attention", "name": P, "kernel_size": k, "heads": h}: vkattn.nn.LocalSelfAttention
// on (B, Cin, H, W), weights P.query.weight, P.key.weight, P.value.weight (Cout, Cin, 1, 1) and
// P.rel_h, P.rel_w (d / 2, k), d = Cout / h even; k odd, h defaults to 1. In a format-2 node,
// "outputs": [y, map] also makes the map (B, h, H W, k k) a value. The map is no (B, N, N)
// attention map, so it is not among the maps attention_crop or `--attention` read.
void register_local_attention(Registry& r) {
  r.add("local_attention");
  r.add("local_self_attention", LayerType{{"kernel_size", "heads"}, true, [](const LayerSpec& spec) -> AddLayer {
          const std::string name = spec.name(), what = "local_self_attention";
          require(spec.has("kernel_size"), "a local_self_attention layer needs a \"kernel_size\": the window's side, odd.");
          const int64_t kernel = spec.integer("kernel_size", 1), heads = spec.integer("heads", 1);
          const Shape weight = spec.tensor("query.weight").shape, m = conv_matrix(weight, name + ".query.weight");
          for (const char* part : {"key.weight", "value.weight"}) {
            const Shape& s = spec.tensor(part).shape;
            require(conv_matrix(s, name + "." + part) == m,
                    "'" + name + "." + part + "' must have the shape of '" + name + ".query.weight', " +
                        to_string(weight) + ", but it is " + to_string(s) + ".");
          }
          const int64_t C = m[0], Cin = m[1];
          require_heads(C, heads, kernel, what);
          const HostTensor rel_h = spec.tensor("rel_h"), rel_w = spec.tensor("rel_w");
          require_embedding(rel_h.shape, C / heads, kernel, what, "'" + name + ".rel_h'");
          require_embedding(rel_w.shape, C / heads, kernel, what, "'" + name + ".rel_w'");
          // One projection makes q, k and v (3C channels, no bias): one pass over the input.
          HostTensor stacked{{3 * C, Cin}, {}};
          for (const char* part : {"query.weight", "key.weight", "value.weight"}) {
            const auto& data = spec.tensor(part).data;
            stacked.data.insert(stacked.data.end(), data.begin(), data.end());
          }
          const HostTensor zeros{{3 * C}, std::vector<float>(3 * C, 0.f)};
          return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild& out) {
            const Shape& x = g.shape(in[0]);
            require(x.size() == 4 && x[1] == Cin, what + " needs a (B, " + str(Cin) + ", H, W) input for its " +
                                                      to_string(weight) + " weights, but it gets " + to_string(x) + ".");
            const TensorId qkv =
                ops::projection(g, in[0], g.weight(name + ".qkv.weight", stacked), g.weight(name + ".qkv.bias", zeros));
            g.name_node(qkv, name + ".qkv");
            const auto a = ops::local_attention(g, {qkv, 0, C}, {qkv, C, C}, {qkv, 2 * C, C},
                                                g.weight(name + ".rel_h", rel_h), g.weight(name + ".rel_w", rel_w),
                                                heads, kernel, out.outputs_wanted > 1);
            g.name_node(a.y, name + ".attention");
            if (a.map) out.more_outputs.push_back(*a.map);
            return a.y;
          };
        },
        1, 1, 2});
}

}  // namespace vkattn
