// torch.matmul of two operands of rank >= 2, at least one of rank >= 3 carrying the batch
// (shaders/matmul.comp, the GEMM of gemm.glsl). The leading dims (all but the last two) broadcast
// as PyTorch's. When each operand's leading dims are all the output's or all 1 (attention's
// q @ k^T and attn @ v, a weight without the batch), every output matrix is one GEMM batch item;
// otherwise (a (B, 1, M, K) against a (B, h, K, N)) one dispatch per index of the output's leading
// dims after the batch, its matrices the batch items. A rank-2 constant b on the cpu profile is
// the pointwise kernel of linear (each row of a a position), fed b padded to whole vec4 texels.
#include "matmul.spv.h"
#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {
namespace {

// The dims before the matrix, with leading 1s to `rank` of them (broadcasting aligns from the right).
Shape leading(const Shape& s, size_t rank) {
  Shape out(rank + 2 - s.size(), 1);
  out.insert(out.end(), s.begin(), s.end() - 2);
  return out;
}

struct Matmul final : Op {
  std::string name() const override { return "matmul"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    const Shape &a = in[0], &b = in[1];
    const std::string both = "matmul: operands " + to_string(a) + " and " + to_string(b);
    require(a.size() >= 2 && b.size() >= 2, both + ": one-dimensional operands are not supported; make a vector a (1, K) or (K, 1) matrix.");
    const size_t rank = std::max(a.size(), b.size());
    require(rank >= 3, both + ": one of them must have a batch before its matrix (rank 3 or more).");
    const int64_t M = a[a.size() - 2], K = a.back(), N = b.back();
    require(b[b.size() - 2] == K, both + ": a has " + std::to_string(K) + " columns but b has " +
                                      std::to_string(b[b.size() - 2]) + " rows; they must be equal.");
    const Shape la = leading(a, rank - 2), lb = leading(b, rank - 2);
    Shape out(rank - 2);
    for (size_t d = 0; d < out.size(); ++d) {
      require(la[d] == lb[d] || la[d] == 1 || lb[d] == 1,
              both + " do not broadcast (dimension " + std::to_string(d) + ": " + std::to_string(la[d]) + " and " +
                  std::to_string(lb[d]) + ").");
      out[d] = std::max(la[d], lb[d]);
    }
    out.insert(out.end(), {M, N});
    require(element_count(a) >= 1 && element_count(b) >= 1, both + ": an operand has an empty dimension.");
    if (in.size() == 4)  // the cpu profile's copies: a zero bias (N) and b padded to (K, padded4(N))
      require(in[2] == Shape{N} && in[3] == Shape{K, ops::padded4(N)},
              "Internal error: matmul's pointwise weights have shapes " + to_string(in[2]) + " and " + to_string(in[3]) + ".");
    return {out};
  }

  // The GEMM, for any broadcast.
  Dispatch dispatch(const NodeShapes& n) const override { return gemms(n).front(); }

  std::vector<Dispatch> dispatches(const NodeShapes& n, const DeviceInfo& device) const override {
    if (n.in.size() == 4) {
      const Shape& a = n.in_shape[0];
      const uint64_t K = a.back(), positions = element_count(a) / a[0] / K;
      auto out = pointwise_dispatches(n, {K, positions, uint64_t(n.in_shape[1][1]), uint64_t(a[0]), positions * K, 1, K, true}, device);
      if (!out.empty()) return out;
    }
    return gemms(n);
  }

  double flops(const NodeShapes& n) const override {
    return 2.0 * element_count(n.out_shape[0]) * n.in_shape[0].back();
  }

 private:
  static std::vector<Dispatch> gemms(const NodeShapes& n) {
    const Shape& c = n.out_shape[0];
    const size_t rank = c.size() - 2;
    const uint64_t M = c[rank], N = c[rank + 1], K = n.in_shape[0].back();
    const Shape lc(c.begin(), c.end() - 2), la = leading(n.in_shape[0], rank), lb = leading(n.in_shape[1], rank);
    const uint64_t matrix[3] = {M * K, K * N, M * N};
    if (flat(la, lc) && flat(lb, lc)) {
      auto stride = [&](const Shape& s, uint64_t size) { return s == lc ? size : 0; };
      const uint64_t sa = stride(la, matrix[0]), sb = stride(lb, matrix[1]);
      return {gemm_dispatch("matmul", matmul_spv, {{n.in[0], 0, sa}, {n.in[1], 0, sb}, {n.out[0], 0, M * N}},
                            element_count(lc), {M, N, K, sa, sb, M * N, 1.0f})};
    }
    // Each operand's strides over its leading dims, 0 along those it broadcasts.
    std::vector<uint64_t> strides[3];
    for (int k = 0; k < 3; ++k) {
      const Shape& s = k == 0 ? la : k == 1 ? lb : lc;
      strides[k].assign(rank, 0);
      uint64_t stride = matrix[k];
      for (size_t d = rank; d-- > 0;) {
        if (s[d] > 1) strides[k][d] = stride;
        stride *= s[d];
      }
    }
    std::vector<Dispatch> out;
    const uint64_t count = element_count(lc) / lc[0];  // index combinations after the batch
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t offset[3] = {0, 0, 0}, rest = i;
      for (size_t d = rank; d-- > 1;) {
        for (int k = 0; k < 3; ++k) offset[k] += (rest % lc[d]) * strides[k][d];
        rest /= lc[d];
      }
      out.push_back(gemm_dispatch("matmul", matmul_spv,
                                  {{n.in[0], offset[0], strides[0][0], matrix[0]},
                                   {n.in[1], offset[1], strides[1][0], matrix[1]},
                                   {n.out[0], offset[2], strides[2][0], matrix[2]}},
                                  lc[0], {M, N, K, strides[0][0], strides[1][0], strides[2][0], 1.0f}));
    }
    return out;
  }
  // Leading dims that are the output's, or all 1: the operand's matrices are one strided sequence.
  static bool flat(const Shape& s, const Shape& lc) { return s == lc || element_count(s) == 1; }
};

}  // namespace

TensorId ops::matmul(Graph& g, TensorId a, TensorId b) {
  const Graph::Tensor ta = g.tensors().at(a), tb = g.tensors().at(b);  // copies: g.weight below adds tensors
  // The operand of lower rank aligns from the right, so its dim 0 is not the batch: a constant only.
  for (const auto* t : {&ta, &tb})
    require(t->kind == Graph::Kind::Weight || t->shape.size() >= std::max(ta.shape.size(), tb.shape.size()),
            "matmul: the value '" + t->name + "' " + to_string(t->shape) + " has fewer dimensions than the other operand " +
                to_string((t == &ta ? tb : ta).shape) + ", so its batch would not line up; reshape it to the same rank.");
  std::vector<TensorId> in = {a, b};
  // The cpu profile's pointwise kernel takes a (K, N) constant as weights, padded to whole texels.
  if (tb.kind == Graph::Kind::Weight && tb.value && tb.shape.size() == 2 && ta.shape.size() >= 3 &&
      ta.shape.back() == tb.shape[0]) {
    const int64_t K = tb.shape[0], N = tb.shape[1], N4 = padded4(N);
    HostTensor padded{{K, N4}, std::vector<float>(K * N4, 0.f)};
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < N; ++j) padded.data[k * N4 + j] = tb.value->data[k * N + j];
    in.push_back(g.weight(tb.name + ".zero_bias", HostTensor{{N}, std::vector<float>(N, 0.f)}));
    in.push_back(g.weight(tb.name + ".output_major", std::move(padded)));
  }
  return add(g, std::make_shared<Matmul>(), in)[0];
}

// {"type": "matmul", "inputs": [a, b]}: torch.matmul(a, b), the leading dims broadcast. With one
// input and "constant": the name of a tensor in the file, that tensor is b (a (K, N) weight, or
// (h, K, N)); "constant_first": true makes it a.
void register_matmul(Registry& r) {
  LayerType type{{"constant", "constant_first"}, false, [](const LayerSpec& spec) -> AddLayer {
                   std::optional<HostTensor> constant;
                   const std::string label = spec.text("constant", "");
                   if (spec.has("constant")) {
                     const auto it = spec.file().tensors.find(label);
                     require(it != spec.file().tensors.end(), "the file holds no tensor called '" + label + "'.");
                     constant = it->second;
                   }
                   const bool first = spec.flag("constant_first", false);
                   require(constant || !first, "\"constant_first\" goes with a \"constant\".");
                   return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) {
                     require(in.size() == (constant ? 1u : 2u),
                             std::string("it reads ") + (constant ? "one value and its constant" : "two values") +
                                 ", but it is given " + std::to_string(in.size()) + ".");
                     if (!constant) return ops::matmul(g, in[0], in[1]);
                     const TensorId c = g.weight(label, *constant);
                     return first ? ops::matmul(g, c, in[0]) : ops::matmul(g, in[0], c);
                   };
                 }};
  type.max_inputs = 2;
  r.add("matmul", type);
}

}  // namespace vkattn
