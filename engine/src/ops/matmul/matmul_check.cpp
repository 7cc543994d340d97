// matmul against float64: attention's shapes (q @ k^T, attn @ v), K not a multiple of 4 and
// sizes that leave part of a 64 x 64 tile, leading dims broadcast every way (a batch of 1 against
// 3, a head dim of 1, a constant without the batch, a (K, N) or (M, K) weight), up to a ViT's qkv
// projection (197 x 768 x 2304); NaN and infinities in a (their rows of the result NaN or infinite).
#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

// c = a @ b with PyTorch's broadcasting of the leading dims.
std::vector<double> reference(const HostTensor& a, const HostTensor& b, const Shape& c) {
  const size_t rank = c.size();
  const int64_t M = c[rank - 2], N = c[rank - 1], K = a.shape.back();
  // Each operand's leading dims aligned to c's, and their strides (0 where broadcast).
  auto strides = [&](const Shape& s) {
    std::vector<int64_t> st(rank - 2, 0);
    int64_t stride = s[s.size() - 2] * s.back();
    for (size_t d = s.size() - 2, e = rank - 2; d-- > 0 && e-- > 0;) {
      if (s[d] > 1) st[e] = stride;
      stride *= s[d];
    }
    return st;
  };
  const auto sa = strides(a.shape), sb = strides(b.shape);
  const int64_t count = element_count(c) / (M * N);
  std::vector<double> y(element_count(c));
  for (int64_t i = 0; i < count; ++i) {
    int64_t oa = 0, ob = 0, rest = i;
    for (size_t d = rank - 2; d-- > 0;) {
      oa += (rest % c[d]) * sa[d];
      ob += (rest % c[d]) * sb[d];
      rest /= c[d];
    }
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double acc = 0;
        for (int64_t k = 0; k < K; ++k) acc += double(a.data[oa + m * K + k]) * b.data[ob + k * N + n];
        y[(i * M + m) * N + n] = acc;
      }
  }
  return y;
}

// {"a": shape, "b": shape, "constant": "a" | "b" (none)}: the named operand a graph weight.
Prepared prepare(const Spec& s, Rng& rng) {
  HostTensor a = random(rng, shape(s, "a")), b = random(rng, shape(s, "b"));
  const std::string kind = special(s);
  const int64_t K = a.shape.back();
  for (int64_t row : {1, 4})  // with "special", one NaN (or +inf, then -inf) in rows 1 and 4 of a
    if (!kind.empty() && row < int64_t(a.data.size()) / K)
      a.data[row * K + std::uniform_int_distribution<int64_t>(0, K - 1)(rng)] = kind == "nan" ? kNaN : row == 1 ? kInf : -kInf;
  const std::string constant = s.value("constant", "");
  Prepared p;
  Graph& g = p.graph;
  const TensorId ta = constant == "a" ? g.weight("a", a) : g.input("a", a.shape);
  const TensorId tb = constant == "b" ? g.weight("b", b) : g.input("b", b.shape);
  const TensorId y = ops::matmul(g, ta, tb);
  g.output("y", y);
  p.reference = [=, c = g.shape(y)] { return Outputs{{"y", reference(a, b, c)}}; };
  if (constant != "a") p.inputs.push_back({"a", a});
  if (constant != "b") p.inputs.push_back({"b", b});
  return p;
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  std::vector<Spec> specs = {
      {{"a", {3, 1, 1}}, {"b", {3, 1, 1}}},
      {{"a", {3, 5, 7}}, {"b", {3, 7, 9}}},
      {{"a", {1, 4, 33, 17}}, {"b", {1, 4, 17, 65}}},
      {{"a", {2, 3, 197, 64}}, {"b", {2, 3, 64, 197}}},   // q @ k^T
      {{"a", {1, 3, 197, 197}}, {"b", {1, 3, 197, 64}}},  // attn @ v
      {{"a", {3, 2, 1, 5, 3}}, {"b", {3, 1, 4, 3, 6}}},   // broadcast inside the leading dims
      {{"a", {1, 2, 6, 5}}, {"b", {3, 2, 5, 7}}},         // a batch of 1 against 3
      {{"a", {3, 1, 6, 5}}, {"b", {3, 4, 5, 7}}},         // a head dim of 1
      {{"a", {2, 3, 5, 7}}, {"b", {3, 7, 2}}, {"constant", "b"}},  // a constant without the batch
      {{"a", {2, 10, 13}}, {"b", {13, 6}}, {"constant", "b"}},
      {{"a", {3, 2, 10, 13}}, {"b", {13, 6}}, {"constant", "b"}},
      {{"a", {6, 10}}, {"b", {3, 10, 4}}, {"constant", "a"}},
      {{"a", {3, 9, 50}}, {"b", {3, 50, 13}}, {"special", "nan"}},
      {{"a", {3, 9, 50}}, {"b", {3, 50, 13}}, {"special", "inf"}},
      {{"a", {3, 9, 50}}, {"b", {50, 13}}, {"constant", "b"}, {"special", "nan"}},
  };
  if (!o.quick) {
    specs.push_back({{"a", {1, 197, 768}}, {"b", {768, 2304}}, {"constant", "b"}});  // a ViT's qkv projection
    specs.push_back({{"a", {1, 197, 768}}, {"b", {1, 768, 2304}}});
    specs.push_back({{"a", {3, 12, 197, 64}}, {"b", {3, 12, 64, 197}}});
  }
  return specs;
}

}  // namespace

void register_matmul_check(CheckRegistry& r) { r.add({"matmul", matrix, prepare}); }

}  // namespace vkattn::conformance
