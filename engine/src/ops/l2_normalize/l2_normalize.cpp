// L2 normalisation of part of every vector along one axis (shaders/l2_normalize.comp): the cosine
// similarity's queries (channels of a (B, C, ...) tensor) and keys (the first entries of each row
// of the position-major (B, N, Cq + Cv) key/value tensor, whose values pass through unchanged).
#include "l2_normalize.spv.h"
#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {
namespace {

struct L2Normalize final : Op {
  L2Normalize(ops::NormalizeAlong along, int64_t first, int64_t count) : along_(along), first_(first), count_(count) {}
  std::string name() const override { return "l2_normalize"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    const Shape& s = in[0];
    require(s.size() >= 3, "l2_normalize: the input must be (B, C, ...) or (B, N, R), but it is " + to_string(s) + ".");
    const int64_t axis = along_ == ops::NormalizeAlong::channels ? s[1] : s.back();
    require(count_ >= 1 && first_ >= 0 && first_ + count_ <= axis,
            "l2_normalize: entries " + std::to_string(first_) + " to " + std::to_string(first_ + count_ - 1) +
                " lie outside an axis of " + std::to_string(axis) + " in " + to_string(s) + ".");
    return {s};
  }

  Dispatch dispatch(const NodeShapes& n) const override {
    const Shape& s = n.in_shape[0];
    const uint64_t count = element_count(s) / s[0];
    // A batch item as a (d1, d2) matrix whose normalised vectors run down d1 or along d2.
    const bool rows = along_ == ops::NormalizeAlong::rows;
    const uint64_t d1 = rows ? count / s.back() : s[1], d2 = count / d1;
    Dispatch d{"l2_normalize", l2_normalize_spv, {{n.in[0], 0, count}, {n.out[0], 0, count}},
               {u32(d1), u32(d2), u32(first_), u32(count_)}};
    d.batches = s[0];
    d.groups_per_batch = ceil_div(count, threads_per_group(l2_normalize_spv));
    d.specialization = {rows ? 1u : 0u};
    return d;
  }

  double flops(const NodeShapes& n) const override {
    return (2.0 * count_ + 2.0) * double(element_count(n.in_shape[0]));
  }

 private:
  ops::NormalizeAlong along_;
  int64_t first_, count_;
};

}  // namespace

TensorId ops::l2_normalize(Graph& g, TensorId x, NormalizeAlong along, int64_t first, int64_t count) {
  return add(g, std::make_shared<L2Normalize>(along, first, count), {x})[0];
}

// {"type": "l2_normalize", "dim": d}: F.normalize(x, p=2, dim=d, eps=1e-12) on (B, C, ...) along
// the last dimension or dim 1 (self_attention's cosine similarity also builds it for part of a row).
void register_l2_normalize(Registry& r) {
  r.add("l2_normalize", LayerType{{"dim"}, false, [](const LayerSpec& spec) -> AddLayer {
                                    require(spec.has("dim"), "it needs a \"dim\": the dimension the vectors run along.");
                                    const int64_t dim = spec.signed_integer("dim", 0);
                                    return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) {
                                      const Shape& s = g.shape(in[0]);
                                      const int64_t rank = int64_t(s.size());
                                      const int64_t d = dim < 0 ? dim + rank : dim;
                                      require(rank >= 3 && (d == rank - 1 || d == 1),
                                              "l2_normalize: it normalises along dim 1 or the last of a tensor of "
                                              "rank 3 or more, not dim " + std::to_string(dim) + " of " +
                                                  to_string(s) + ".");
                                      return d == rank - 1 ? ops::l2_normalize(g, in[0], ops::NormalizeAlong::rows, 0, s.back())
                                                           : ops::l2_normalize(g, in[0], ops::NormalizeAlong::channels, 0, s[1]);
                                    };
                                  }});
}

}  // namespace vkattn
