// F.pad on any rank, never the batch (shaders/pad.comp): constant, reflect and edge (replicate)
// modes; a negative pad crops, as ONNX Pad does. Each output element finds its input element from
// its coordinates, so one kernel serves every mode and rank.
#include <algorithm>

#include "ops/op.h"
#include "ops/registry.h"
#include "pad.spv.h"

namespace vkattn {
namespace {

constexpr size_t kMaxDims = 6;  // after the batch, once merged: the shader's push constants hold this many
constexpr int64_t kMaxItem = int64_t{1} << 31;  // elements per batch item: the kernel indexes in 32 bits

// One dimension after the batch: its size in the input and the elements added before and after.
struct Axis {
  int64_t size, before, after;
};

// The dimensions after the batch of `x` with their pads (pads[k] pads dimension rank - 1 - k), each
// run of neighbours that no pad touches merged into one: it is contiguous in input and output alike.
std::vector<Axis> axes(const Shape& x, const std::vector<std::pair<int64_t, int64_t>>& pads) {
  std::vector<Axis> out;
  for (size_t d = 1; d < x.size(); ++d) {
    const size_t k = x.size() - 1 - d;
    const Axis a = k < pads.size() ? Axis{x[d], pads[k].first, pads[k].second} : Axis{x[d], 0, 0};
    const bool plain = a.before == 0 && a.after == 0;
    if (plain && !out.empty() && out.back().before == 0 && out.back().after == 0) out.back().size *= a.size;
    else out.push_back(a);
  }
  return out;
}

struct Pad final : Op {
  Pad(std::vector<std::pair<int64_t, int64_t>> pads, ops::PadMode mode, float value)
      : pads_(std::move(pads)), mode_(mode), value_(value) {}
  std::string name() const override { return "pad"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    const Shape& x = in[0];
    require(x.size() >= 2 && element_count(x) >= 1,
            name() + ": the input must be (B, ...) with elements, but it is " + to_string(x) + ".");
    require(element_count(x) / x[0] < kMaxItem,
            name() + ": the input " + to_string(x) + " has too many elements per batch item.");
    require(mode_ <= ops::PadMode::edge, name() + ": the mode must be constant, reflect or edge.");
    require(pads_.size() <= x.size() - 1,
            name() + ": it is given " + std::to_string(pads_.size()) + " (before, after) pairs, but the input " +
                to_string(x) + " has only " + std::to_string(x.size() - 1) +
                " dimensions after the batch, which it never pads.");
    Shape out = x;
    for (size_t k = 0; k < pads_.size(); ++k) {
      const size_t d = x.size() - 1 - k;
      const auto [before, after] = pads_[k];
      const std::string which = "dimension " + std::to_string(d) + " (size " + std::to_string(x[d]) + ") by (" +
                                std::to_string(before) + ", " + std::to_string(after) + ")";
      require(before > -kMaxItem && before < kMaxItem && after > -kMaxItem && after < kMaxItem,
              name() + ": padding " + which + " is out of range: each pad must lie strictly between -2^31 and 2^31.");
      require(mode_ != ops::PadMode::reflect || (before < x[d] && after < x[d]),
              name() + ": reflect padding " + which + " needs each pad smaller than the dimension it pads.");
      out[d] = x[d] + before + after;
      require(out[d] >= 1, name() + ": padding " + which + " leaves no element.");
    }
    int64_t item = 1;  // stops past kMaxItem, so it cannot wrap
    for (size_t d = 1; d < out.size(); ++d) item = out[d] > kMaxItem / item ? kMaxItem : item * out[d];
    require(item < kMaxItem, name() + ": the result " + to_string(out) + " has too many elements per batch item.");
    require(axes(x, pads_).size() <= kMaxDims,
            name() + ": the pads of the input " + to_string(x) + " leave more than " + std::to_string(kMaxDims) +
                " separate dimensions (neighbours without pads count as one), more than the kernel takes.");
    return {out};
  }

  Dispatch dispatch(const NodeShapes& n) const override {
    const Shape &x = n.in_shape[0], &y = n.out_shape[0];
    const int64_t in_item = element_count(x) / x[0], count = element_count(y) / y[0];
    const std::vector<Axis> merged = axes(x, pads_);
    std::vector<uint32_t> out_size(kMaxDims, 1), in_size(kMaxDims, 1), before(kMaxDims, 0);
    for (size_t d = 0; d < merged.size(); ++d) {
      out_size[d] = u32(merged[d].size + merged[d].before + merged[d].after);
      in_size[d] = u32(merged[d].size);
      before[d] = u32(merged[d].before);  // the shader reads it as a signed int
    }
    std::vector<uint32_t> push = {u32(count), u32(in_item), u32(merged.size()), bits(value_)};
    for (const auto* v : {&out_size, &in_size, &before}) push.insert(push.end(), v->begin(), v->end());
    Dispatch d{"pad", pad_spv, {{n.in[0], 0, uint64_t(in_item)}, {n.out[0], 0, uint64_t(count)}}, push};
    d.batches = x[0];
    d.groups_per_batch = ceil_div(count, threads_per_group(pad_spv));
    d.specialization = {static_cast<uint32_t>(mode_)};
    return d;
  }

  double flops(const NodeShapes&) const override { return 0; }  // a copy

 private:
  std::vector<std::pair<int64_t, int64_t>> pads_;
  ops::PadMode mode_;
  float value_;
};

}  // namespace

TensorId ops::pad(Graph& g, TensorId x, std::vector<std::pair<int64_t, int64_t>> pads, PadMode mode, float value) {
  return add(g, std::make_shared<Pad>(std::move(pads), mode, value), {x})[0];
}

// {"type": "pad", "pad": [left, right, top, bottom, ...], "mode": "constant" | "reflect" |
// "replicate" | "edge", "value": v}: F.pad(x, pad, mode, value). "pad" is F.pad's flat list, a
// (before, after) pair per dimension from the last one back, never reaching the batch; negative
// pads crop. mode defaults to "constant" ("edge" is ONNX's name for "replicate"); "value" (0)
// goes with "constant" only, as F.pad refuses it with the others.
void register_pad(Registry& r) {
  r.add("pad", LayerType{{"pad", "mode", "value"}, false, [](const LayerSpec& spec) -> AddLayer {
    require(spec.has("pad"), "it needs a \"pad\": F.pad's list of (before, after) pairs, last dimension first.");
    const std::vector<int64_t> flat = spec.integers("pad");
    require(flat.size() % 2 == 0, "its \"pad\" must hold a (before, after) pair per dimension, but it holds " +
                                      std::to_string(flat.size()) + " numbers.");
    std::vector<std::pair<int64_t, int64_t>> pads;
    for (size_t k = 0; k < flat.size(); k += 2) pads.emplace_back(flat[k], flat[k + 1]);
    const std::string text = spec.text("mode", "constant");
    require(text == "constant" || text == "reflect" || text == "replicate" || text == "edge",
            "its \"mode\" must be \"constant\", \"reflect\", \"replicate\" or \"edge\", but it is \"" + text + "\".");
    const ops::PadMode mode = text == "constant"  ? ops::PadMode::constant
                              : text == "reflect" ? ops::PadMode::reflect
                                                  : ops::PadMode::edge;
    require(mode == ops::PadMode::constant || !spec.has("value"),
            "its \"value\" goes with mode \"constant\" only, as in F.pad.");
    const float value = spec.number("value", 0.f);
    return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) {
      return ops::pad(g, in[0], pads, mode, value);
    };
  }});
}

}  // namespace vkattn
