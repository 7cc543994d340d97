#include "ops/op.h"

#include <algorithm>

#include "projection_narrow.spv.h"
#include "projection_pointwise.spv.h"
#include "spirv_reflect.h"

namespace vkattn {

std::vector<TensorId> add(Graph& graph, std::shared_ptr<const Op> op, const std::vector<TensorId>& inputs) {
  std::vector<Shape> shapes;
  for (TensorId t : inputs) {
    require(t < graph.tensors().size(), "Graph: tensor " + std::to_string(t) + " does not exist in this graph.");
    shapes.push_back(graph.shape(t));
  }
  std::vector<Shape> out = op->infer(shapes);
  const std::string name = op->name();
  return graph.add_node(std::move(op), name, inputs, std::move(out));
}

BindLimits bind_limits(BindAs as, const DeviceInfo& device, uint32_t float_bytes) {
  switch (as) {
    case BindAs::FloatTexels:
      return {device.max_texel_buffer_elements * float_bytes,
              std::max<uint64_t>(device.min_texel_buffer_offset_alignment, float_bytes)};
    case BindAs::Vec4Texels:  // texels of 4 floats
      return {device.max_texel_buffer_elements * 4 * float_bytes,
              std::max<uint64_t>(device.min_texel_buffer_offset_alignment, 16)};
    case BindAs::Vec4Storage:
      return {device.max_storage_buffer_range, std::max<uint64_t>(device.min_storage_buffer_offset_alignment, 16)};
    case BindAs::Storage: break;
  }
  return {device.max_storage_buffer_range, std::max<uint64_t>(device.min_storage_buffer_offset_alignment, 4)};
}

namespace {
// The alignment slack an op leaves in a binding when it sizes work in float32 bytes. A texel
// range is a count of texels, so with 16-bit storage the range in bytes halves while the
// alignment does not: twice the slack keeps a float32 count within the fp16 binding too.
uint64_t slack(BindAs as, uint64_t align) { return is_texels(as) ? 2 * align : align; }
}  // namespace

bool fits(uint64_t floats, BindAs as, const DeviceInfo& device) {
  const auto [range, align] = bind_limits(as, device);
  return floats * 4 + slack(as, align) <= range;
}

std::string limit_name(BindAs as) {
  return is_texels(as) ? "maxTexelBufferElements" : "maxStorageBufferRange";
}

uint64_t rows_per_block(uint64_t rows, uint64_t row_floats, const DeviceInfo& device, BindAs as,
                        const std::string& what) {
  const auto [range, align] = bind_limits(as, device);
  const uint64_t fit = range > slack(as, align) ? (range - slack(as, align)) / (4 * row_floats) : 0;
  if (fit == 0)
    throw DeviceLimitError(what + " (" + std::to_string(row_floats) + " floats) does not fit this device's " +
                           limit_name(as) + " (" + std::to_string(range) + " bytes).");
  return ceil_div(rows, ceil_div(rows, fit));
}

uint64_t items_per_unit(uint64_t batches, std::initializer_list<std::pair<uint64_t, BindAs>> per_item,
                        const DeviceInfo& device) {
  for (uint64_t k = batches; k > 1; --k)
    if (batches % k == 0 &&
        std::all_of(per_item.begin(), per_item.end(), [&](const auto& b) { return fits(k * b.first, b.second, device); }))
      return k;
  return 1;
}

bool Activation::monotone() const {
  using F = ActivationFunction;
  switch (function) {
    case F::hardswish: case F::silu: case F::gelu: case F::gelu_tanh: case F::abs: case F::mish: return false;
    case F::elu: case F::leaky_relu: return a >= 0.f;
    default: return true;
  }
}

std::vector<uint32_t> Activation::specialization() const { return {uint32_t(function), bits(a), bits(b)}; }

std::vector<uint32_t> Epilogue::specialization() const {
  auto values = activation.specialization();
  values.push_back(residual);
  return values;
}

Operand residual_operand(const NodeShapes& n, const Epilogue& e, uint64_t stride, const Operand& stand_in) {
  return e.residual ? Operand{n.in.back(), 0, stride, 0, BindAs::FloatTexels} : stand_in;
}

namespace {

// Fewer than 8 positions per item: the lanes run over output channels (projection_narrow.comp).
Dispatch narrow_dispatch(const NodeShapes& n, const PointwiseLayout& l) {
  const uint64_t C = l.channels, N = l.positions, M = l.outputs, M4 = ceil_div(M, 4);
  const ShaderInterface shader = reflect(projection_narrow_spv);
  const uint64_t lanes_wide = shader.local_size[0];
  // Two texels a lane where that still leaves two workgroups an item: fewer input fetches.
  const uint64_t per_lane = ceil_div(M4, 2) >= 2 * lanes_wide ? 2 : 1;
  const bool vec4_store = l.positions_major && M % 4 == 0;
  const BindAs out_as = vec4_store ? BindAs::Vec4Storage : BindAs::Storage;
  const Operand x{n.in[0], 0, l.x_batch_stride, 0, BindAs::FloatTexels};
  Dispatch d{"projection_narrow", projection_narrow_spv,
             {x, {n.in[3], 0, 0, 0, BindAs::Vec4Texels}, {n.in[2], 0, 0, 0, BindAs::FloatTexels},
              {n.out[0], 0, M * N, 0, out_as}, residual_operand(n, l.epilogue, M * N, x)},
             {u32(C), u32(N), u32(M), u32(l.x_batch_stride), u32(l.channel_stride), u32(l.position_stride)}};
  d.batches = l.batches;
  d.groups_per_batch = ceil_div(ceil_div(M4, per_lane), lanes_wide);
  d.specialization = {u32(per_lane), u32(N), l.positions_major, vec4_store};
  const auto epilogue = l.epilogue.specialization();
  d.specialization.insert(d.specialization.end(), epilogue.begin(), epilogue.end());
  return d;
}

}  // namespace

std::vector<Dispatch> pointwise_dispatches(const NodeShapes& n, const PointwiseLayout& l, const DeviceInfo& device) {
  const ShaderInterface shader = reflect(projection_pointwise_spv);
  const uint64_t C = l.channels, N = l.positions, M = l.outputs;
  if (device.profile != "cpu" || n.in.size() < 4 || !fits(C * ops::padded4(M), BindAs::Vec4Texels, device) ||
      !fits(l.x_batch_stride, BindAs::FloatTexels, device))
    return {};
  if (N < 8 && fits(M * N, BindAs::Storage, device)) return {narrow_dispatch(n, l)};
  const LaneTile tile = lane_tile(N, l.batches, double(C) * double(M) * double(N) * double(l.batches),
                                  shader.spec_constant(0));
  const uint64_t per_position = tile.positions;
  // Whole vec4 stores where every lane's outputs fall in whole vec4s.
  const bool vec4_store = l.positions_major ? M % 4 == 0 : per_position % 4 == 0 && N % 4 == 0;
  const BindAs out_as = vec4_store ? BindAs::Vec4Storage : BindAs::Storage;
  const uint64_t items = items_per_unit(l.batches, {{l.x_batch_stride, BindAs::FloatTexels}, {M * N, out_as}}, device);
  const uint64_t position_groups = ceil_div(items * ceil_div(N, per_position), shader.local_size[0]);
  const Operand x{n.in[0], 0, items * l.x_batch_stride, 0, BindAs::FloatTexels};
  Dispatch d{"projection_pointwise", projection_pointwise_spv,
             {x, {n.in[3], 0, 0, 0, BindAs::Vec4Texels}, {n.in[2], 0, 0, 0, BindAs::FloatTexels},
              {n.out[0], 0, items * M * N, 0, out_as}, residual_operand(n, l.epilogue, items * M * N, x)},
             {u32(C), u32(N), u32(M), u32(position_groups), u32(l.x_batch_stride), u32(l.channel_stride),
              u32(l.position_stride), u32(items)}};
  const uint64_t per_lane = channels_per_lane(M, tile.channels);
  d.batches = l.batches / items;
  d.groups_per_batch = ceil_div(M, per_lane) * position_groups;
  d.specialization = {u32(per_lane), u32(per_position), l.positions_major, vec4_store};
  const auto epilogue = l.epilogue.specialization();
  d.specialization.insert(d.specialization.end(), epilogue.begin(), epilogue.end());
  return {d};
}

LaneTile lane_tile(uint64_t positions, uint64_t items, double multiply_adds, uint64_t most) {
  if (multiply_adds < kLargeTileFrom) return {4, std::min<uint64_t>(most, 32)};
  for (const uint64_t P : {16, 8}) {
    const uint64_t lanes = ceil_div(positions, P);
    if (lanes * items >= 8 && 8 * (lanes * P - positions) <= positions) return {P, most};
  }
  return {4, most};
}

void require_additive_weights(const Shape& u, int64_t cq, const std::string& op) {
  require(element_count(u) == cq && (u.size() == 1 || (u.size() == 2 && u[0] == 1)),
          op + ": the additive weights must be (1, " + std::to_string(cq) + "), one per query channel, but they are " +
              to_string(u) + ".");
}

std::vector<TensorId> inputs_with_output_major_weight(Graph& g, TensorId x, TensorId weight, TensorId bias) {
  std::vector<TensorId> in = {x, weight, bias};
  const Graph::Tensor& t = g.tensors().at(weight);
  if (t.kind != Graph::Kind::Weight || !t.value || t.shape.empty() || t.shape[0] < 1) return in;
  const int64_t M = t.shape[0], K = element_count(t.shape) / M, M4 = ops::padded4(M);
  HostTensor packed{{K, M4}, std::vector<float>(K * M4, 0.f)};
  for (int64_t m = 0; m < M; ++m)
    for (int64_t k = 0; k < K; ++k) packed.data[k * M4 + m] = t.value->data[m * K + k];
  const std::string name = t.name + ".output_major";
  in.push_back(g.weight(name, std::move(packed)));
  return in;
}

void require_output_major_weight(std::span<const Shape> in, const std::string& op) {
  if (in.size() < 4) return;
  const Shape& w = in[1];
  require(in[3] == Shape{element_count(w) / w[0], ops::padded4(w[0])},
          "Internal error: " + op + "'s output-major weight has shape " + to_string(in[3]) + ".");
}

uint64_t channels_per_lane(uint64_t M, uint64_t most) {
  return std::min<uint64_t>(most, ops::padded4(int64_t(ceil_div(M, ceil_div(M, most)))));
}

HostTensor key_value_rows(const HostTensor& key, const HostTensor& value, int64_t columns) {
  const int64_t width = std::max<int64_t>(columns, 1);
  HostTensor out{columns ? Shape{0, columns} : Shape{0}, {}};
  for (const HostTensor* part : {&key, &value}) {
    const int64_t rows = ops::padded4(part->shape[0]);
    out.data.insert(out.data.end(), part->data.begin(), part->data.end());
    out.data.resize(out.data.size() + (rows - part->shape[0]) * width, 0.f);
    out.shape[0] += rows;
  }
  return out;
}

int64_t spatial_size(const Shape& shape) {
  int64_t n = 1;
  for (size_t i = 2; i < shape.size(); ++i) n *= shape[i];
  return n;
}

void require_activation(const Shape& shape, const std::string& op, const std::string& what) {
  require((shape.size() == 3 || shape.size() == 4) && element_count(shape) >= 1,
          op + ": the " + what + " must be (B, C, H, W) or (B, C, N) with no zero size, but it is " +
              to_string(shape) + ".");
}

Dispatch gemm_dispatch(std::string kernel, std::span<const uint32_t> spirv, std::vector<Operand> operands,
                       uint64_t batches, const Gemm& g) {
  // The tile is the workgroup times each thread's TM x TN outputs (spec constants 0, 1 in gemm.glsl).
  const ShaderInterface shader = reflect(spirv);
  const uint64_t tile_m = shader.local_size[1] * shader.spec_constant(0);
  const uint64_t tile_n = shader.local_size[0] * shader.spec_constant(1);
  const uint64_t tiles_n = ceil_div(g.N, tile_n), tiles_m = ceil_div(g.M, tile_m);
  Dispatch d{std::move(kernel), spirv, std::move(operands),
             {u32(g.M), u32(g.N), u32(g.K), u32(g.a_stride), u32(g.b_stride), u32(g.c_stride), u32(tiles_n),
              bits(g.alpha)}};
  d.batches = batches;
  d.groups_per_batch = tiles_m * tiles_n;
  return d;
}

Dispatch elementwise_dispatch(std::string kernel, std::span<const uint32_t> spirv, const NodeShapes& n) {
  const Shape& s = n.in_shape[0];
  const uint64_t batches = s.size() > 1 ? s[0] : 1;
  return elementwise_dispatch(std::move(kernel), spirv, n.in[0], n.out[0], 0, element_count(s) / batches, batches);
}

Dispatch elementwise_dispatch(std::string kernel, std::span<const uint32_t> spirv, TensorId in, TensorId out,
                              uint64_t offset, uint64_t count, uint64_t batches) {
  const bool vec4 = count % 4 == 0 && offset % 4 == 0;  // then every thread's four elements are one vec4
  const BindAs as = vec4 ? BindAs::Vec4Storage : BindAs::Storage;
  Dispatch d{std::move(kernel), spirv, {{in, offset, count, 0, as}, {out, offset, count, 0, as}}, {u32(count)}};
  d.batches = batches;
  d.groups_per_batch = ceil_div(count, 4 * threads_per_group(spirv));
  d.specialization = {vec4};
  return d;
}

std::vector<Shape> ElementwiseOp::infer(std::span<const Shape> in) const {
  require(!in[0].empty(), name_ + ": the input must have at least one dimension.");
  return {in[0]};
}

Dispatch ElementwiseOp::dispatch(const NodeShapes& n) const {
  Dispatch d = elementwise_dispatch(name_, spirv_, n);
  d.specialization.insert(d.specialization.end(), specialization_.begin(), specialization_.end());
  return d;
}

uint64_t threads_per_group(std::span<const uint32_t> spirv) {
  const ShaderInterface shader = reflect(spirv);
  return uint64_t{shader.local_size[0]} * shader.local_size[1] * shader.local_size[2];
}

int64_t window_count(int64_t in, int64_t window, int64_t stride, int64_t pad, const std::string& op,
                     const std::string& axis) {
  require(window >= 1 && stride >= 1 && pad >= 0,
          op + ": the " + axis + " kernel and stride must be at least 1 and the padding at least 0.");
  require(in + 2 * pad >= window, op + ": the " + axis + " kernel (" + std::to_string(window) +
                                      ") is larger than the padded input (" + std::to_string(in) + " + 2 x " +
                                      std::to_string(pad) + ").");
  return (in + 2 * pad - window) / stride + 1;
}

}  // namespace vkattn
