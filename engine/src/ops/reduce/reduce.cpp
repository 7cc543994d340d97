// sum, mean and amax over a set of dimensions after the batch, as torch.sum, torch.mean and
// torch.amax (shaders/reduce.comp): compensated float32 sums, NaN kept by amax.
#include <algorithm>

#include "ops/op.h"
#include "ops/registry.h"
#include "reduce.spv.h"

namespace vkattn {
namespace {

constexpr size_t kRuns = 3;             // kept and reduced runs of dimensions the shader takes
constexpr uint64_t kGroupFrom = 128;    // reductions this long take a workgroup per output
constexpr int64_t kMaxItem = int64_t{1} << 31;  // elements per batch item: the kernel indexes in 32 bits

const char* op_name(ops::Reduce kind) {
  switch (kind) {
    case ops::Reduce::sum: return "sum";
    case ops::Reduce::mean: return "mean";
    case ops::Reduce::amax: return "amax";
  }
  return "?";
}

// Dimensions of one kind (kept or reduced) as runs: neighbours merged, sizes of 1 dropped,
// outermost first.
struct Runs {
  std::vector<int64_t> size, stride;
  void add(int64_t n, int64_t st) {
    if (n == 1) return;
    if (!size.empty() && stride.back() == st * n) {
      size.back() *= n;
      stride.back() = st;
    } else {
      size.push_back(n);
      stride.push_back(st);
    }
  }
  // kRuns sizes, then kRuns strides, the unused outer runs of size 1.
  std::vector<uint32_t> push() const {
    std::vector<uint32_t> out(2 * kRuns, 0);
    for (size_t k = 0; k < kRuns; ++k) out[k] = 1;
    const size_t skip = kRuns - size.size();
    for (size_t k = 0; k < size.size(); ++k) {
      out[skip + k] = u32(size[k]);
      out[kRuns + skip + k] = u32(stride[k]);
    }
    return out;
  }
};

struct Reduction final : Op {
  Reduction(ops::Reduce kind, std::vector<int64_t> dims, bool keepdim)
      : kind_(kind), dims_(std::move(dims)), keepdim_(keepdim) {}
  std::string name() const override { return op_name(kind_); }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    const Shape& x = in[0];
    require(x.size() >= 2 && element_count(x) >= 1,
            name() + ": the input must have a batch and at least one more dimension, with elements, but it is " +
                to_string(x) + ".");
    require(element_count(x) / x[0] < kMaxItem, name() + ": the input " + to_string(x) + " has too many elements per batch item.");
    require(!dims_.empty(), name() + ": it needs the dims to reduce over (at least one).");
    const std::vector<bool> reduced = reduced_dims(x);
    Shape out;
    for (size_t d = 0; d < x.size(); ++d)
      if (!reduced[d]) out.push_back(x[d]);
      else if (keepdim_) out.push_back(1);
    const auto [kept, red] = runs(x, reduced);
    require(kept.size.size() <= kRuns && red.size.size() <= kRuns,
            name() + ": the dims " + to_string(dims_) + " split the input " + to_string(x) + " into more than " +
                std::to_string(kRuns) + " separate runs of kept or reduced dimensions, more than the kernel takes.");
    return {out};
  }

  Dispatch dispatch(const NodeShapes& n) const override {
    const Shape &x = n.in_shape[0], &y = n.out_shape[0];
    const auto [kept, red] = runs(x, reduced_dims(x));
    const uint64_t in_item = element_count(x) / x[0], count = element_count(y) / y[0];
    const uint64_t reduced = in_item / count;
    const bool group = reduced >= kGroupFrom;
    std::vector<uint32_t> push = {u32(count), u32(in_item), u32(count), u32(reduced)};
    for (const Runs* r : {&kept, &red}) {
      const auto v = r->push();
      push.insert(push.end(), v.begin(), v.end());
    }
    Dispatch d{name(), reduce_spv, {{n.in[0], 0, in_item}, {n.out[0], 0, count}}, push};
    d.batches = x[0];
    d.groups_per_batch = group ? count : ceil_div(count, threads_per_group(reduce_spv));
    d.specialization = {static_cast<uint32_t>(kind_), group};
    return d;
  }

  double flops(const NodeShapes& n) const override { return double(element_count(n.in_shape[0])); }

 private:
  // Which dimensions of x are reduced, each named by dims_ once and none the batch.
  std::vector<bool> reduced_dims(const Shape& x) const {
    const int64_t rank = static_cast<int64_t>(x.size());
    std::vector<bool> reduced(x.size(), false);
    for (int64_t d : dims_) {
      require(d >= -rank && d < rank, name() + ": dimension " + std::to_string(d) + " is out of range for the input " +
                                          to_string(x) + " (from " + std::to_string(-rank) + " to " +
                                          std::to_string(rank - 1) + ").");
      const int64_t w = d < 0 ? d + rank : d;
      require(w != 0, name() + ": dimension 0 is the batch, which it does not reduce over; name dimensions 1 and later.");
      require(!reduced[w], name() + ": the dims " + to_string(dims_) + " name dimension " + std::to_string(w) + " twice.");
      reduced[w] = true;
    }
    return reduced;
  }
  // The kept and reduced dimensions of one batch item as runs, with x's strides.
  static std::pair<Runs, Runs> runs(const Shape& x, const std::vector<bool>& reduced) {
    Runs kept, red;
    int64_t stride = 1;
    std::vector<int64_t> strides(x.size());
    for (size_t d = x.size(); d-- > 0;) strides[d] = stride, stride *= x[d];
    for (size_t d = 1; d < x.size(); ++d) (reduced[d] ? red : kept).add(x[d], strides[d]);
    return {kept, red};
  }

  ops::Reduce kind_;
  std::vector<int64_t> dims_;
  bool keepdim_;
};

}  // namespace

TensorId ops::reduce(Graph& g, TensorId x, Reduce kind, std::vector<int64_t> dims, bool keepdim) {
  return add(g, std::make_shared<Reduction>(kind, std::move(dims), keepdim), {x})[0];
}
TensorId ops::sum(Graph& g, TensorId x, std::vector<int64_t> dims, bool keepdim) {
  return reduce(g, x, Reduce::sum, std::move(dims), keepdim);
}
TensorId ops::mean(Graph& g, TensorId x, std::vector<int64_t> dims, bool keepdim) {
  return reduce(g, x, Reduce::mean, std::move(dims), keepdim);
}
TensorId ops::amax(Graph& g, TensorId x, std::vector<int64_t> dims, bool keepdim) {
  return reduce(g, x, Reduce::amax, std::move(dims), keepdim);
}

// {"type": "mean" | "sum" | "amax", "dims": [d, ...], "keepdim": false}: over the dims named (one
// number or a list; the batch, 0, excluded; negative ones count from the end), as torch.mean,
// torch.sum and torch.amax (which keeps NaN). keepdim leaves each reduced dimension as size 1.
void register_reduce(Registry& r) {
  for (const ops::Reduce kind : {ops::Reduce::sum, ops::Reduce::mean, ops::Reduce::amax})
    r.add(op_name(kind), LayerType{{"dims", "keepdim"}, false, [kind](const LayerSpec& spec) -> AddLayer {
                                     const std::vector<int64_t> dims = spec.integers("dims");
                                     const bool keepdim = spec.flag("keepdim", false);
                                     return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) {
                                       return ops::reduce(g, in[0], kind, dims, keepdim);
                                     };
                                   }});
}

}  // namespace vkattn
