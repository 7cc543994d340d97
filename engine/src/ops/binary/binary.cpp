// add, sub, mul, div, pow, minimum and maximum of two tensors with PyTorch's broadcasting (shaders/binary.comp): two
// activations, or an activation and a constant (a per-channel tensor, a scalar).
#include "binary.spv.h"
#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {
namespace {

constexpr size_t kMaxDims = 6;  // after the batch: the shader's push constants hold this many

const char* op_name(ops::Binary op) {
  switch (op) {
    case ops::Binary::add: return "add";
    case ops::Binary::sub: return "sub";
    case ops::Binary::mul: return "mul";
    case ops::Binary::div: return "div";
    case ops::Binary::pow: return "pow";
    case ops::Binary::minimum: return "minimum";
    case ops::Binary::maximum: return "maximum";
  }
  return "?";
}

// `shape` with leading 1s to `rank` dimensions, as broadcasting aligns shapes from the right.
Shape aligned(const Shape& shape, size_t rank) {
  Shape out(rank - shape.size(), 1);
  out.insert(out.end(), shape.begin(), shape.end());
  return out;
}

struct BinaryOp final : Op {
  ops::Binary op;
  explicit BinaryOp(ops::Binary o) : op(o) {}
  std::string name() const override { return op_name(op); }
  bool adds_two_values() const override { return op == ops::Binary::add; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    const size_t rank = std::max(in[0].size(), in[1].size());
    require(rank >= 1 && rank <= kMaxDims + 1, name() + ": operands of shapes " + to_string(in[0]) + " and " +
                                                   to_string(in[1]) + " have more than " +
                                                   std::to_string(kMaxDims + 1) + " dimensions.");
    const Shape a = aligned(in[0], rank), b = aligned(in[1], rank);
    Shape out(rank);
    for (size_t d = 0; d < rank; ++d) {
      require(a[d] == b[d] || a[d] == 1 || b[d] == 1,
              name() + ": shapes " + to_string(in[0]) + " and " + to_string(in[1]) +
                  " do not broadcast (dimension " + std::to_string(d) + ": " + std::to_string(a[d]) + " and " +
                  std::to_string(b[d]) + ").");
      out[d] = std::max(a[d], b[d]);
      require(out[d] >= 1, name() + ": an operand has an empty dimension.");
    }
    require(element_count(out) < (int64_t{1} << 32), name() + ": the result " + to_string(out) + " is too large.");
    return {out};
  }

  Dispatch dispatch(const NodeShapes& n) const override { return make(n, 1); }
  // The cpu profile: 16 elements a thread (binary.comp's PER_LANE), which halved ConvNeXt-Tiny's
  // time in binary ops (35 -> 18 ms).
  std::vector<Dispatch> dispatches(const NodeShapes& n, const DeviceInfo& device) const override {
    return {make(n, device.profile == "cpu" ? 16 : 1)};
  }

  double flops(const NodeShapes& n) const override { return double(element_count(n.out_shape[0])); }

 private:
  Dispatch make(const NodeShapes& n, uint32_t per_lane) const {
    const Shape& out = n.out_shape[0];
    const size_t rank = out.size();
    const uint64_t count = element_count(out) / out[0];
    std::vector<uint32_t> push = {u32(count), u32(rank - 1)};
    std::vector<uint32_t> size(kMaxDims, 1), strides[2] = {std::vector<uint32_t>(kMaxDims, 0),
                                                              std::vector<uint32_t>(kMaxDims, 0)};
    uint64_t batch[2];
    bool same = true;
    for (int k = 0; k < 2; ++k) {
      const Shape s = aligned(n.in_shape[k], rank);
      uint64_t stride = 1;
      for (size_t d = rank; d-- > 1;) {
        strides[k][d - 1] = s[d] == 1 ? 0 : u32(stride);
        same &= s[d] == out[d];
        stride *= s[d];
      }
      batch[k] = s[0] == 1 ? 0 : stride;  // stride is now one item's elements
    }
    for (size_t d = 1; d < rank; ++d) size[d - 1] = u32(out[d]);
    push.push_back(u32(batch[0]));
    push.push_back(u32(batch[1]));
    for (const auto* v : {&size, &strides[0], &strides[1]}) push.insert(push.end(), v->begin(), v->end());
    Dispatch d{"binary", binary_spv,
               {{n.in[0], 0, batch[0]}, {n.in[1], 0, batch[1]}, {n.out[0], 0, count}},
               push};
    d.batches = out[0];
    d.groups_per_batch = ceil_div(count, per_lane * threads_per_group(binary_spv));
    d.specialization = {static_cast<uint32_t>(op), same ? 1u : 0u, per_lane};
    return d;
  }
};

}  // namespace

TensorId ops::binary(Graph& g, Binary op, TensorId a, TensorId b) {
  return add(g, std::make_shared<BinaryOp>(op), {a, b})[0];
}

// {"type": "add" | "sub" | "mul" | "div" | "pow" | "minimum" | "maximum", "inputs": [a, b]}: a OP b
// with PyTorch's broadcasting (pow: a^b as numpy's float32 power, NaN for a negative a and a
// fractional b; minimum and maximum NaN where either is, as torch.minimum and torch.maximum).
// With one input and a constant instead of b: "constant": the name of a tensor in the file (any
// shape that broadcasts: a per-channel (C, 1, 1), a position embedding), or "scalar": a number;
// "constant_first": true puts the constant on the left (1 - x, 2 / x, 2^x).
void register_binary(Registry& r) {
  for (const ops::Binary op :
       {ops::Binary::add, ops::Binary::sub, ops::Binary::mul, ops::Binary::div, ops::Binary::pow,
        ops::Binary::minimum, ops::Binary::maximum}) {
    LayerType type{{"constant", "scalar", "constant_first"}, false, [op](const LayerSpec& spec) -> AddLayer {
                     require(!(spec.has("constant") && spec.has("scalar")),
                             "it takes a \"constant\" or a \"scalar\", not both.");
                     std::optional<HostTensor> constant;
                     if (spec.has("constant")) {
                       const std::string name = spec.text("constant", "");
                       const auto it = spec.file().tensors.find(name);
                       require(it != spec.file().tensors.end(), "the file holds no tensor called '" + name + "'.");
                       constant = it->second;
                     }
                     if (spec.has("scalar")) constant = HostTensor{{}, {spec.number("scalar", 0.f)}};
                     const bool first = spec.flag("constant_first", false);
                     require(constant || !first, "\"constant_first\" goes with a \"constant\" or a \"scalar\".");
                     const std::string label = spec.has("constant") ? spec.text("constant", "") : std::string();
                     return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) {
                       require(in.size() == (constant ? 1u : 2u),
                               std::string("it reads ") + (constant ? "one value and its constant" : "two values") +
                                   ", but it is given " + std::to_string(in.size()) + ".");
                       if (!constant) return ops::binary(g, op, in[0], in[1]);
                       const TensorId c = g.weight(label.empty() ? "scalar" : label, *constant);
                       return first ? ops::binary(g, op, c, in[0]) : ops::binary(g, op, in[0], c);
                     };
                   }};
    type.max_inputs = 2;
    r.add(op_name(op), type);
  }
}

}  // namespace vkattn
