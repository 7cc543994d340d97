// pad against a reference that maps every output coordinate back to the input as F.pad and
// numpy.pad define each mode, on the full rank (no merged dimensions, as the kernel uses): ranks 2
// to 7, asymmetric pads, pads of 0, crops (negative pads), sizes of 1 and sizes that are not
// multiples of the workgroup, images (B, C, H, W) with a conv's and a CycleGAN's reflection pad,
// and NaN and infinities, which a copy passes through. The copy is exact: the bound is 0.
#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

ops::PadMode parse_mode(const std::string& mode) {
  if (mode == "reflect") return ops::PadMode::reflect;
  if (mode == "edge") return ops::PadMode::edge;
  return ops::PadMode::constant;
}

// The input coordinate that output coordinate o of a dimension of size n, padded by `before`,
// reads, or -1 where the constant fills it.
int64_t source(int64_t o, int64_t n, int64_t before, ops::PadMode mode) {
  const int64_t c = o - before;
  if (c >= 0 && c < n) return c;
  if (mode == ops::PadMode::constant) return -1;
  if (mode == ops::PadMode::edge) return c < 0 ? 0 : n - 1;
  return c < 0 ? -c : 2 * (n - 1) - c;  // reflect: mirrored about the edge element
}

// y = F.pad(x, pads, mode, value) over every coordinate of y, in float64.
std::vector<double> reference(const HostTensor& x, const std::vector<std::pair<int64_t, int64_t>>& pads,
                              ops::PadMode mode, double value, const Shape& out) {
  const size_t rank = x.shape.size();
  std::vector<int64_t> before(rank, 0);
  for (size_t k = 0; k < pads.size(); ++k) before[rank - 1 - k] = pads[k].first;
  std::vector<double> y(element_count(out));
  std::vector<int64_t> c(rank, 0);  // y's coordinates, in C order
  for (double& v : y) {
    int64_t at = 0;
    bool inside = true;
    for (size_t d = 0; d < rank && inside; ++d) {
      const int64_t from = source(c[d], x.shape[d], before[d], mode);
      inside = from >= 0;
      at = at * x.shape[d] + from;
    }
    v = inside ? x.data[at] : value;
    for (size_t d = rank; d-- > 0;) {
      if (++c[d] < out[d]) break;
      c[d] = 0;
    }
  }
  return y;
}

// {"x": shape, "pad": F.pad's flat list (last dimension first), "mode": "constant" | "reflect" |
// "edge", "value": v (constant; 0 if absent), "special"}.
Prepared prepare(const Spec& s, Rng& rng) {
  HostTensor x = random(rng, shape(s, "x"));
  sprinkle(x, special(s), int64_t(x.data.size() / 8 + 1), rng);
  const std::vector<int64_t> flat = s["pad"].get<std::vector<int64_t>>();
  std::vector<std::pair<int64_t, int64_t>> pads;
  for (size_t k = 0; k + 1 < flat.size(); k += 2) pads.emplace_back(flat[k], flat[k + 1]);
  const ops::PadMode mode = parse_mode(s.value("mode", "constant"));
  const float value = s.value("value", 0.f);
  Prepared p;
  const TensorId y = ops::pad(p.graph, p.graph.input("x", x.shape), pads, mode, value);
  p.graph.output("y", y);
  const Shape out = p.graph.shape(y);
  p.reference = [=] { return Outputs{{"y", reference(x, pads, mode, value, out)}}; };
  p.inputs = {{"x", std::move(x)}};
  p.bound = 0;
  return p;
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  std::vector<Spec> specs;
  const auto add = [&](Shape x, std::vector<int64_t> pad, const char* mode, Spec more = Spec::object()) {
    Spec s{{"x", x}, {"pad", pad}, {"mode", mode}};
    s.update(more);
    specs.push_back(s);
  };
  for (const char* mode : {"constant", "reflect", "edge"}) {
    add({3, 17}, {5, 2}, mode);                                // rank 2, a sequence
    add({1, 7}, {6, 3}, mode);                                 // pads up to n - 1
    add({2, 5, 9}, {1, 2, 3, 0}, mode);                        // two dims, one pad of 0
    add({2, 3, 4}, {0, 0, 0, 0}, mode);                        // pads of 0: a copy
    add({2, 3, 13, 17}, {1, 1, 1, 1}, mode);                   // an image, a conv's padding
    add({3, 3, 13, 17}, {3, 2, 0, 4}, mode);                   // asymmetric, width and height
    add({2, 4, 6, 7}, {0, 0, 2, 1}, mode);                     // height only: rows stay whole
    add({2, 3, 4, 5}, {1, 2, 3, 1, 2, 0}, mode);               // every dimension after the batch
    add({2, 3, 4, 5}, {1, 1, 0, 0, 2, 1}, mode);               // an unpadded dim between padded ones
    add({2, 2, 3, 4, 5}, {1, 0, 0, 2, 2, 1}, mode);            // rank 5, a volume
    add({2, 2, 3, 2, 3, 2, 5}, {2, 1, 1, 1}, mode);            // rank 7: leading dims merge
    add({2, 3, 9, 11}, {-2, 3, 1, -4}, mode);                  // crops and pads together
    add({2, 5, 8}, {-3, -1}, mode);                            // crops only
    add({3, 1, 1}, {0, 0, 0, 0}, mode);                        // sizes of 1
    add({2, 1, 1, 1}, {0, 0, 0, 0}, mode);
    for (const char* kind : {"nan", "inf"}) add({2, 3, 7, 5}, {2, 1, 1, 3}, mode, {{"special", kind}});
  }
  add({3, 1, 1}, {2, 3, 4, 1}, "edge");                        // edge from a single element
  add({3, 1, 1}, {2, 3, 4, 1}, "constant", {{"value", -2.5}});
  add({2, 3, 13, 17}, {3, 3, 3, 3}, "constant", {{"value", 1.5}});
  add({2, 3, 9, 11}, {-2, 3, 1, -4}, "constant", {{"value", -1}});
  add({1, 3, 5, 4}, {2, 70, 0, 0}, "constant");                // far more padding than input
  if (!o.quick) {
    add({4, 64, 56, 56}, {3, 3, 3, 3}, "reflect");             // a CycleGAN's ReflectionPad2d(3)
    add({4, 64, 56, 56}, {1, 1, 1, 1}, "constant");
    add({2, 3, 224, 224}, {0, 1, 0, 1}, "edge");
  }
  return specs;
}

}  // namespace

void register_pad_check(CheckRegistry& r) { r.add({"pad", matrix, prepare}); }

}  // namespace vkattn::conformance
