// The host side of one kernel: how it checks and infers shapes, and what dispatch it asks the
// executor to record. Adding an op means one shader, one file here, and one test.
#pragma once
#include <bit>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vkattn/context.h"
#include "vkattn/error.h"
#include "vkattn/graph.h"
#include "vkattn/ops.h"

namespace vkattn {

// How a kernel reads a bound tensor. Uniform texel buffers (GLSL samplerBuffer) are the cheapest
// reads on CPU drivers: lavapipe fetches a float texel for all lanes with one vector gather, and
// a vec4 texel with vector loads and a transpose, where a float from a storage or uniform buffer
// is a per-lane loop or gather (so no kernel uses uniform buffers). FloatTexels binds an
// R32_SFLOAT view, Vec4Texels an RGBA32F one (the window must then start at a multiple of 16 bytes).
// Vec4Storage: a storage buffer the kernel also indexes as vec4 (lavapipe stores or loads a vec4
// per lane in one pass of its per-lane loop, four floats in four), so the data must start on 16 bytes.
enum class BindAs { Storage, FloatTexels, Vec4Texels, Vec4Storage };
constexpr bool is_texels(BindAs as) { return as == BindAs::FloatTexels || as == BindAs::Vec4Texels; }
constexpr bool is_storage(BindAs as) { return as == BindAs::Storage || as == BindAs::Vec4Storage; }
constexpr bool needs_16_byte_start(BindAs as) { return as == BindAs::Vec4Texels || as == BindAs::Vec4Storage; }

// The most bytes one binding of that kind may cover, and the alignment of its start.
struct BindLimits {
  uint64_t range, align;
};
// float_bytes: 4, or 2 for a tensor stored in 16 bits (a texel range is a count of texels).
BindLimits bind_limits(BindAs as, const DeviceInfo& device, uint32_t float_bytes = 4);
std::string limit_name(BindAs as);  // the device limit behind bind_limits' range
// Whether `floats` floats fit one binding of that kind, less an offset's alignment slack.
bool fits(uint64_t floats, BindAs as, const DeviceInfo& device);

// One bound tensor. Offsets and strides are in elements; batch_stride 0 means every batch item
// reads the same data (weights). extent, when set, is how much of each batch item the kernel
// reads from offset on (else the whole stride): the bound range is then only that window.
struct Operand {
  TensorId tensor;
  uint64_t offset = 0;
  uint64_t batch_stride = 0;
  uint64_t extent = 0;
  BindAs as = BindAs::Storage;  // how the kernel declares it
};

// A dispatch before batching: the executor splits it into chunks of batch items so that every
// binding fits maxStorageBufferRange, and fills the push-constant header for each chunk.
struct Dispatch {
  std::string kernel;                 // pipeline cache key
  std::span<const uint32_t> spirv;
  std::vector<Operand> operands;      // in binding order
  std::vector<uint32_t> push;         // the kernel's own fields, after the shared header
  uint64_t batches = 1;
  uint64_t groups_per_batch = 1;
  std::vector<uint32_t> specialization = {};  // values of specialization constants 0, 1, ...
};

// Mirrors VKATTN_PUSH_HEADER in shaders/common.glsl.
struct PushHeader {
  static constexpr size_t kMaxOperands = 7;
  uint32_t base[kMaxOperands];
  uint32_t batches, groups, groups_per_batch;
};
static_assert(sizeof(PushHeader) == 40);

struct NodeShapes {
  std::span<const TensorId> in, out;
  std::span<const Shape> in_shape, out_shape;
};

// An elementwise function that an activation node computes and that the kernels of the node
// before it may apply as they store instead (shaders/activations.glsl, same numbering).
enum class ActivationFunction : uint32_t {
  identity = 0, relu, clamp, hardswish, hardsigmoid, silu, gelu, gelu_tanh, elu, leaky_relu, sigmoid, tanh,
  exp, log, abs, floor, ceil, round, erf, softsign, softplus, mish
};
struct Activation {
  ActivationFunction function = ActivationFunction::identity;
  float a = 0.f, b = 0.f;  // clamp's min and max, elu's alpha, leaky_relu's slope, softplus's beta and threshold
  // Never decreasing, so that it commutes with a max pool.
  bool monotone() const;
  // The shader's specialization values: function, a, b.
  std::vector<uint32_t> specialization() const;
};

// What a node's kernels may apply to its output as they store it, in place of the nodes after it
// (the plan folds those in when each tensor between them has no other reader), in this order:
// a residual added, the activation, a 2x2 max pool.
struct Epilogue {
  bool residual = false;  // adds the unit's last input, of the output's shape (not with max_pool)
  Activation activation;
  bool max_pool = false;  // 2x2 max pooling, stride 2, no padding: the node stores the pooled tensor
  // The epilogue.glsl specialization values: function, a, b, residual.
  std::vector<uint32_t> specialization() const;
};

class Op {
 public:
  virtual ~Op() = default;
  virtual std::string name() const = 0;
  // Output shapes for these input shapes, or a vkattn::Error saying what does not fit.
  virtual std::vector<Shape> infer(std::span<const Shape> inputs) const = 0;
  virtual Dispatch dispatch(const NodeShapes& node) const = 0;
  // The dispatches the node records, in order. Most ops have one; an op that works through its
  // data in passes sized from the device's limits (the fused attention's key blocks) has several.
  virtual std::vector<Dispatch> dispatches(const NodeShapes& node, const DeviceInfo&) const { return {dispatch(node)}; }
  // The same with `e` applied to the output as it is stored (the node's out_shape is then the last
  // folded node's output); empty when the kernels this device runs cannot.
  virtual std::vector<Dispatch> fused_dispatches(const NodeShapes&, const DeviceInfo&, const Epilogue&) const {
    return {};
  }
  // What the node is as part of an epilogue: the activation it computes, a 2x2 max pool with
  // stride 2, or the sum of two values (a residual, when they have the output's shape).
  virtual std::optional<Activation> activation() const { return {}; }
  virtual bool is_2x2_max_pool() const { return false; }
  virtual bool adds_two_values() const { return false; }
  virtual double flops(const NodeShapes& node) const = 0;
};

// Adds a node of `op` to the graph after inferring (and so checking) its output shapes.
std::vector<TensorId> add(Graph& graph, std::shared_ptr<const Op> op, const std::vector<TensorId>& inputs);

// Helpers shared by the ops.
inline void require(bool ok, const std::string& sentence) {
  if (!ok) throw Error(sentence);
}
inline uint32_t u32(int64_t v) { return static_cast<uint32_t>(v); }
inline uint32_t bits(float v) { return std::bit_cast<uint32_t>(v); }
inline uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
// Weights the blocks build on the host: (rows, columns) matrices stacked, or vectors when
// columns is 0.
// The weights (or, with columns 0, the bias) of a projection whose rows are laid out as
// ops::key_value_row says: the key rows, zero rows to a multiple of 4, the value rows, zero rows.
HostTensor key_value_rows(const HostTensor& key, const HostTensor& value, int64_t columns);
// Product of the dimensions after batch and channel: H*W for NCHW, N for (B, C, N).
int64_t spatial_size(const Shape& shape);
// The additive similarity's weights u (attention and attention_map): Cq values, as (Cq) or
// nn.Linear(Cq, 1)'s (1, Cq).
void require_additive_weights(const Shape& u, int64_t cq, const std::string& op);
// Checks a (B, C, ...) activation of rank 3 or 4 with non-zero sizes.
void require_activation(const Shape& shape, const std::string& op, const std::string& what);

// For ops that walk their data in blocks, one dispatch each: the rows per block when `rows` rows
// of `row_floats` floats are split into equal blocks that each fit one binding of the device
// (of kind `as`), less an offset's alignment slack. Throws DeviceLimitError, naming `what`,
// when not even one row fits.
uint64_t rows_per_block(uint64_t rows, uint64_t row_floats, const DeviceInfo& device, BindAs as, const std::string& what);

// The inputs of a conv2d, projection or linear node: {x, weight, bias} and, for a constant weight
// (M, K...), a copy of it as (K, padded4(M)), k-major with zeros past M, for the cpu profile's
// per-position kernels (one vec4 texel holds 4 output channels' weights for one k). Without that
// copy (a weight that is not a constant) those kernels are not used.
std::vector<TensorId> inputs_with_output_major_weight(Graph& g, TensorId x, TensorId weight, TensorId bias);
// In infer: the copy, when the node has one, has the shape that comment gives.
void require_output_major_weight(std::span<const Shape> in, const std::string& op);
// Batch items per unit for kernels that pack the lanes of several batch items into their
// workgroups, so that no subgroup runs mostly idle at the end of a small item (the classifier's
// 7x7 planes filled 13 of 16 lanes): the most that divide `batches` with every binding still
// fitting. `per_item`: each binding's floats per item and how it is bound.
uint64_t items_per_unit(uint64_t batches, std::initializer_list<std::pair<uint64_t, BindAs>> per_item,
                        const DeviceInfo& device);

// Output channels per invocation for M outputs when a lane holds at most `most` (a multiple of
// 4): the fewest groups, as even as whole texels allow, so that no lane computes channels past M
// for nothing (M = 72, most 32: three groups of 24, not 32, 32 and 8).
uint64_t channels_per_lane(uint64_t M, uint64_t most);
// The tile one lane of the cpu profile's direct and pointwise kernels computes: P positions by up
// to `channels` output channels (for channels_per_lane). On lavapipe each weight texel fetch costs
// about what 16 multiply-adds do and a lane's P positions share it: on a 197 x 768 -> 3072 linear
// layer 16 positions by 32 channels ran 34 GFLOP/s where 4 by 32 ran 22-26, and 16 by 64 (with
// the kernels' 4-channel step) 41-48. But the large tile's unrolled code takes the driver about 0.4 s
// more to compile, once a pipeline, so only layers of kLargeTileFrom multiply-adds or more get
// it. P is then 16, 8 or 4: smaller where a larger one would leave a subgroup's 8 lanes idle or
// compute over an eighth more positions than there are. `most` is the shader's largest.
constexpr double kLargeTileFrom = 1 << 24;
struct LaneTile {
  uint64_t positions, channels;
};
LaneTile lane_tile(uint64_t positions, uint64_t items, double multiply_adds, uint64_t most);

// The cpu profile's weights-times-vectors kernel (shaders/projection_pointwise.comp), for the
// projection and linear layers: y[b, m, n] (or y[b, n, m] when positions_major) =
// sum_c W[m, c] x[b * x_batch_stride + c * channel_stride + n * position_stride] + bias[m], with
// the node's inputs x, W (M, C), bias and output_major_weight's copy of W. Empty when the device
// should use the GEMM (not the cpu profile, no copy, or a binding past the texel limit).
struct PointwiseLayout {
  uint64_t channels, positions, outputs, batches, x_batch_stride, channel_stride, position_stride;
  bool positions_major;
  Epilogue epilogue = {};  // without max_pool
};
std::vector<Dispatch> pointwise_dispatches(const NodeShapes& node, const PointwiseLayout& layout,
                                           const DeviceInfo& device);

// The batched GEMM behind projection, scores and attend (shaders/gemm.glsl).
struct Gemm {
  uint64_t M, N, K, a_stride, b_stride, c_stride;
  float alpha;
};
Dispatch gemm_dispatch(std::string kernel, std::span<const uint32_t> spirv, std::vector<Operand> operands,
                       uint64_t batches, const Gemm& g);

// Invocations in one workgroup of the shader, read from its SPIR-V: how kernels with one
// invocation per element count their workgroups without restating the shader's size.
uint64_t threads_per_group(std::span<const uint32_t> spirv);

// Four elements of a batch item per thread (shaders/elementwise.glsl): binding 0 in, 1 out;
// specialization constant 0 says whether they are one vec4.
Dispatch elementwise_dispatch(std::string kernel, std::span<const uint32_t> spirv, const NodeShapes& node);
// The same over `count` elements from `offset` of each of `batches` items `count` long; a block
// of one flat item where offset > 0 (fp16_storage.cpp casts an item too large for one binding so).
Dispatch elementwise_dispatch(std::string kernel, std::span<const uint32_t> spirv, TensorId in, TensorId out,
                              uint64_t offset, uint64_t count, uint64_t batches);

// Each element to one output element through a shader built on elementwise.glsl, with its own
// specialization constants from id 1 on; `activation` when it computes one the kernels before it
// can apply instead. Any shape of at least one dimension.
class ElementwiseOp final : public Op {
 public:
  ElementwiseOp(std::string name, std::span<const uint32_t> spirv, double flops_per_element,
                std::vector<uint32_t> specialization = {}, std::optional<Activation> activation = {})
      : name_(std::move(name)),
        spirv_(spirv),
        flops_(flops_per_element),
        specialization_(std::move(specialization)),
        activation_(activation) {}
  std::string name() const override { return name_; }
  std::optional<Activation> activation() const override { return activation_; }
  std::vector<Shape> infer(std::span<const Shape> in) const override;
  Dispatch dispatch(const NodeShapes& n) const override;
  double flops(const NodeShapes& n) const override { return flops_ * double(element_count(n.in_shape[0])); }

 private:
  std::string name_;
  std::span<const uint32_t> spirv_;
  double flops_;
  std::vector<uint32_t> specialization_;
  std::optional<Activation> activation_;
};

// A node computing `f` on each element (shaders/activation.comp), named `name`.
TensorId add_activation(Graph& g, TensorId x, const std::string& name, const Activation& f, double flops_per_element);
// The epilogue's residual operand (binding 4 of the kernels that take one, as float texels): the
// unit's last input with the output's window `stride` per batch item, or, without one, `stand_in`
// (a float-texel operand of the same dispatch), which the kernel then never reads.
Operand residual_operand(const NodeShapes& n, const Epilogue& e, uint64_t stride, const Operand& stand_in);

// Output size of a sliding window: (in + 2 pad - window) / stride + 1, or an Error if no window fits.
int64_t window_count(int64_t in, int64_t window, int64_t stride, int64_t pad, const std::string& op,
                     const std::string& axis);

}  // namespace vkattn
