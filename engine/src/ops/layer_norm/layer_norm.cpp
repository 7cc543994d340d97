// Layer norm (shaders/layer_norm.comp): torch.nn.LayerNorm over the last k dimensions, and the
// channels-first form ConvNeXt's LayerNorm2d means (over dim 1 of (B, C, ...), per position).
// Both are rows of L elements `inner` apart: the last-dims form has contiguous rows (inner 1),
// the channels-first one a row per position, its channels `inner` = the positions apart.
#include "layer_norm.spv.h"
#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {
namespace {

constexpr uint64_t kGroupFrom = 128;  // rows this long take a workgroup each

struct LayerNorm final : Op {
  // dims: how many last dimensions a row covers; 0 for the channels-first form.
  LayerNorm(int64_t dims, bool weight, bool bias, float eps) : dims(dims), has_weight(weight), has_bias(bias), eps(eps) {}
  int64_t dims;
  bool has_weight, has_bias;
  float eps;
  std::string name() const override { return "layer_norm"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    const Shape& x = in[0];
    require(x.size() >= 2 && element_count(x) >= 1,
            "layer_norm: the input must have a batch and at least one more dimension, with elements, but it is " +
                to_string(x) + ".");
    require(element_count(x) / x[0] < (int64_t{1} << 32),
            "layer_norm: the input " + to_string(x) + " has too many elements per batch item.");
    const int64_t rank = int64_t(x.size());
    require(dims < rank, "layer_norm: normalising the input " + to_string(x) + " over its last " + std::to_string(dims) +
                             " dimensions would cover the batch; give from 1 to " + std::to_string(rank - 1) + ".");
    const Shape normalized = dims ? Shape(x.end() - dims, x.end()) : Shape{x[1]};
    size_t k = 1;
    for (const char* what : {"weight", "bias"}) {
      if (what == std::string("weight") ? !has_weight : !has_bias) continue;
      require(in[k] == normalized, "layer_norm: the " + std::string(what) + " must be " + to_string(normalized) +
                                       ", the normalised shape of the input " + to_string(x) + ", but it is " +
                                       to_string(in[k]) + ".");
      ++k;
    }
    return {x};
  }

  Dispatch dispatch(const NodeShapes& n) const override { return make(n, false); }
  std::vector<Dispatch> dispatches(const NodeShapes& n, const DeviceInfo& device) const override {
    return {make(n, device.profile == "cpu")};
  }

  double flops(const NodeShapes& n) const override { return 8.0 * element_count(n.in_shape[0]); }

 private:
  Dispatch make(const NodeShapes& n, bool cpu) const {
    const Shape& x = n.in_shape[0];
    const uint64_t item = element_count(x) / x[0];
    uint64_t L = 1;
    for (size_t d = dims ? x.size() - dims : 1; d < (dims ? x.size() : 2); ++d) L *= x[d];
    const uint64_t inner = dims ? 1 : item / L, rows = item / L;
    // Long rows take a workgroup each, as do long rows too few to fill one workgroup's lanes. On
    // the cpu profile only rows too few for a subgroup's 8 lanes do: there the workgroup's
    // shared-memory sums cost a coroutine switch a barrier, and a lane a row ran ViT-B/16's
    // (197, 768) rows 4x faster.
    const bool group = L >= kGroupFrom && (cpu ? rows < 8 : inner == 1 || rows < threads_per_group(layer_norm_spv));
    // An absent weight or bias: x again, one element of it, which the kernel does not read.
    const Operand unused{n.in[0], 0, 0, 1};
    size_t k = 1;
    const Operand weight = has_weight ? Operand{n.in[k++]} : unused;
    const Operand bias = has_bias ? Operand{n.in[k++]} : unused;
    Dispatch d{"layer_norm", layer_norm_spv, {{n.in[0], 0, item}, weight, bias, {n.out[0], 0, item}},
               {u32(L), u32(inner), u32(rows), bits(eps)}};
    d.batches = x[0];
    d.groups_per_batch = group ? rows : ceil_div(rows, threads_per_group(layer_norm_spv));
    d.specialization = {group, has_weight, has_bias};
    return d;
  }
};

std::vector<TensorId> inputs(TensorId x, std::optional<TensorId> weight, std::optional<TensorId> bias) {
  std::vector<TensorId> in = {x};
  if (weight) in.push_back(*weight);
  if (bias) in.push_back(*bias);
  return in;
}

}  // namespace

TensorId ops::layer_norm(Graph& g, TensorId x, int64_t normalized_dims, std::optional<TensorId> weight,
                         std::optional<TensorId> bias, float eps) {
  // 0 is the channels-first form inside the op: refuse it here as any other count below 1.
  require(normalized_dims >= 1, "layer_norm: it normalises over the last " + std::to_string(normalized_dims) +
                                    " dimensions; give at least 1.");
  return add(g, std::make_shared<LayerNorm>(normalized_dims, bool(weight), bool(bias), eps), inputs(x, weight, bias))[0];
}

TensorId ops::layer_norm_channels(Graph& g, TensorId x, std::optional<TensorId> weight, std::optional<TensorId> bias,
                                  float eps) {
  return add(g, std::make_shared<LayerNorm>(0, bool(weight), bool(bias), eps), inputs(x, weight, bias))[0];
}

// {"type": "layer_norm", "name": P, "dims": k (1), "eps": e (1e-5), "channels_first": false}: as
// torch.nn.LayerNorm over the last k dims (normalized_shape), or with "channels_first" over dim 1
// of (B, C, ...) per position (ConvNeXt's LayerNorm2d; no "dims" then). Weights P.weight and P.bias,
// each of the normalised shape, are used where the file holds them: neither for
// elementwise_affine=False (or no "name"), the weight alone for LayerNorm(bias=False).
void register_layer_norm(Registry& r) {
  r.add("layer_norm", LayerType{{"dims", "eps", "channels_first"}, false, [](const LayerSpec& spec) -> AddLayer {
          const bool channels = spec.flag("channels_first", false);
          require(!(channels && spec.has("dims")), "\"dims\" goes with the last-dims form, not with \"channels_first\".");
          const int64_t dims = spec.integer("dims", 1);
          const float eps = spec.number("eps", 1e-5f);
          const std::string name = spec.name();
          auto optional = [&](const std::string& suffix) -> std::optional<HostTensor> {
            const auto it = spec.file().tensors.find(name + "." + suffix);
            if (name.empty() || it == spec.file().tensors.end()) return std::nullopt;
            return it->second;
          };
          const std::optional<HostTensor> weight = optional("weight"), bias = optional("bias");
          return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) {
            std::optional<TensorId> w, b;
            if (weight) w = g.weight(name + ".weight", *weight);
            if (bias) b = g.weight(name + ".bias", *bias);
            return channels ? ops::layer_norm_channels(g, in[0], w, b, eps) : ops::layer_norm(g, in[0], dims, w, b, eps);
          };
        }});
}

}  // namespace vkattn
