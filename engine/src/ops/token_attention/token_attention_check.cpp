// The token attention against float64 softmax(scale q k^T + bias) v: head dimensions of one and
// two levels (Swin's windows x heads), rows past a key step (8) and not, channel counts that are
// and are not whole texels, value channels past one channel group; biases that repeat over the
// batch, the windows or the heads, an input bias with -inf (a key padding mask, one row fully
// masked); the map; NaN and infinities.
#include <cmath>

#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

Shape with(Shape front, const Shape& back) {
  front.insert(front.end(), back.begin(), back.end());
  return front;
}

// {"B", "heads": [..], "Nq", "Nk", "d", "dv", "bias": [..] (broadcasting to the scores, aligned
// from the right), "bias_input": bool (the bias is an input with the batch in front), "mask": bool
// (-inf in the bias: keys masked, all of item 0's first query row), "map": bool, "special"}.
Prepared prepare(const Spec& s, Rng& rng) {
  const int64_t B = integer(s, "B"), Nq = integer(s, "Nq"), Nk = integer(s, "Nk"), d = integer(s, "d"),
                dv = integer(s, "dv");
  const Shape heads = s.value("heads", Shape{});
  const Shape q_shape = with(with({B}, heads), {Nq, d}), k_shape = with(with({B}, heads), {Nk, d}),
              v_shape = with(with({B}, heads), {Nk, dv}), scores = with(with({B}, heads), {Nq, Nk});
  const float scale = s.value("scale", 1.f / std::sqrt(float(d)));
  const bool map = s.value("map", false), has_bias = s.contains("bias"), bias_input = s.value("bias_input", false);
  Prepared p;
  auto q = random(rng, q_shape, -2.f, 2.f), k = random(rng, k_shape, -2.f, 2.f), v = random(rng, v_shape);
  HostTensor bias;
  if (has_bias) {
    const Shape b = s["bias"].get<Shape>();
    bias = random(rng, bias_input ? with({B}, b) : b, -2.f, 2.f);
    if (s.value("mask", false)) {
      std::bernoulli_distribution masked(0.3);
      for (float& x : bias.data) x = masked(rng) ? -kInf : x;
      const int64_t row = bias.shape.back();  // item 0's first row masked everywhere: NaN, as PyTorch
      for (int64_t j = 0; j < row; ++j) bias.data[j] = -kInf;
    }
  }
  const std::string kind = special(s);
  if (kind == "nan") {
    q.data[0] = kNaN;                        // a query row of item 0: NaN
    v.data[v.data.size() - 1] = kNaN;        // a value of the last item: that channel NaN
  } else if (kind == "inf") {
    k.data[k.data.size() / 2] = -kInf;       // weighs 0 for positive queries, NaN for the others
    v.data[0] = kInf;
  }
  Graph& g = p.graph;
  std::optional<TensorId> b;
  if (has_bias) b = bias_input ? g.input("bias", bias.shape) : g.weight("bias", bias);
  const auto a = ops::token_attention(g, g.input("q", q.shape), g.input("k", k.shape), g.input("v", v.shape), b,
                                      s.contains("scale") ? std::optional<float>(scale) : std::nullopt, map);
  g.output("y", a.out);
  if (map) g.output("map", *a.map);
  p.reference = [=] {
    const int64_t T = element_count(heads), R = int64_t(scores.size());
    // The bias's strides over the scores' dimensions, 0 where it repeats.
    std::vector<int64_t> bstride(R, 0);
    if (has_bias) {
      Shape bs(R - bias.shape.size(), 1);
      bs.insert(bs.end(), bias.shape.begin(), bias.shape.end());
      int64_t st = 1;
      for (int64_t dd = R; dd-- > 0;) {
        bstride[dd] = bs[dd] == 1 ? 0 : st;
        st *= bs[dd];
      }
    }
    std::vector<double> y(B * T * Nq * dv), m(B * T * Nq * Nk), w(Nk);
    for (int64_t bt = 0; bt < B * T; ++bt) {
      int64_t at = 0, rest = bt;  // the bias offset of this batch item and head
      for (int64_t dd = R - 3; dd >= 0; --dd) {
        at += (rest % scores[dd]) * bstride[dd];
        rest /= scores[dd];
      }
      for (int64_t i = 0; i < Nq; ++i) {
        double top = -INFINITY;
        for (int64_t j = 0; j < Nk; ++j) {
          double dot = 0;
          for (int64_t c = 0; c < d; ++c) dot += double(q.data[(bt * Nq + i) * d + c]) * k.data[(bt * Nk + j) * d + c];
          w[j] = double(scale) * dot + (has_bias ? bias.data[at + i * bstride[R - 2] + j * bstride[R - 1]] : 0.0);
          top = max_nan(top, w[j]);
        }
        double sum = 0;
        for (int64_t j = 0; j < Nk; ++j) sum += (w[j] = std::exp(w[j] - top));
        for (int64_t j = 0; j < Nk; ++j) m[(bt * Nq + i) * Nk + j] = w[j] / sum;
        for (int64_t c = 0; c < dv; ++c) {
          double acc = 0;
          for (int64_t j = 0; j < Nk; ++j) acc += w[j] / sum * v.data[(bt * Nk + j) * dv + c];
          y[(bt * Nq + i) * dv + c] = acc;
        }
      }
    }
    Outputs out{{"y", y}};
    if (map) out.push_back({"map", m});
    return out;
  };
  p.inputs = {{"q", std::move(q)}, {"k", std::move(k)}, {"v", std::move(v)}};
  if (has_bias && bias_input) p.inputs.push_back({"bias", std::move(bias)});
  // At fp16 a second key block rescales the first block's stored (half) output and statistics,
  // and exp turns a stored maximum's rounding into a relative error (measured up to 8.3e-4).
  p.fp16_bound = 5e-3;
  return p;
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  std::vector<Spec> specs = {
      {{"B", 1}, {"Nq", 1}, {"Nk", 1}, {"d", 1}, {"dv", 1}},
      {{"B", 2}, {"heads", {3}}, {"Nq", 17}, {"Nk", 17}, {"d", 64}, {"dv", 64}},     // ViT-like, heads of 64
      {{"B", 3}, {"heads", {2}}, {"Nq", 5}, {"Nk", 13}, {"d", 7}, {"dv", 3}},        // float texels, Nq != Nk
      {{"B", 2}, {"heads", {1}}, {"Nq", 9}, {"Nk", 9}, {"d", 8}, {"dv", 70}, {"scale", 0.3}},  // 3 channel groups
      {{"B", 2}, {"heads", {4, 3}}, {"Nq", 49}, {"Nk", 49}, {"d", 32}, {"dv", 32},
       {"bias", {3, 49, 49}}},                                                      // Swin: per head, over windows
      {{"B", 2}, {"heads", {4, 3}}, {"Nq", 9}, {"Nk", 9}, {"d", 4}, {"dv", 4},
       {"bias", {4, 1, 9, 9}}, {"map", true}},                                      // Swin's shift mask, per window
      {{"B", 3}, {"heads", {2}}, {"Nq", 6}, {"Nk", 11}, {"d", 5}, {"dv", 6},
       {"bias", {1, 1, 11}}, {"bias_input", true}, {"mask", true}, {"map", true}},  // key padding mask
      {{"B", 2}, {"heads", {2}}, {"Nq", 10}, {"Nk", 10}, {"d", 12}, {"dv", 8},
       {"bias", {10, 1}}, {"map", true}},                                           // a bias per query row
  };
  if (!o.quick) {
    specs.push_back({{"B", 2}, {"heads", {12}}, {"Nq", 197}, {"Nk", 197}, {"d", 64}, {"dv", 64}, {"map", true}});
    specs.push_back({{"B", 1}, {"heads", {2}}, {"Nq", 1500}, {"Nk", 1031}, {"d", 16}, {"dv", 20}});
  }
  for (const char* kind : {"nan", "inf"})
    specs.push_back({{"B", 3}, {"heads", {2}}, {"Nq", 11}, {"Nk", 11}, {"d", 8}, {"dv", 8}, {"special", kind}});
  return specs;
}

}  // namespace

void register_token_attention_check(CheckRegistry& r) { r.add({"token_attention", matrix, prepare}); }

}  // namespace vkattn::conformance
