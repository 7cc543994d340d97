// Builders for every op the engine runs, one kernel each. All tensors are float32 in C order:
// activations NCHW (B, C, H, W), or (B, C, N) for the attention ops, or (B, ..., F) for linear.
// Each builder checks its inputs' shapes and throws vkattn::Error with a sentence if they do not fit.
#pragma once
#include <optional>
#include <cstdint>
#include <vector>

#include "vkattn/graph.h"

namespace vkattn {

// A contiguous run of channels of a (B, C, ...) tensor: how one stacked projection output is
// read as separate query, key and value tensors without a copy.
struct ChannelSlice {
  TensorId tensor;
  int64_t first = 0, count = 0;
};

// Height and width of a 2-D window, stride or padding.
struct Size2 {
  int64_t h = 0, w = 0;
};

namespace ops {
// --- the self-attention block ---
// 1x1 convolution: (B, C, H, W) x weight (M, C) or (M, C, 1, 1) + bias (M) -> (B, M, H, W), or
// with positions_major (B, N, M), N = H*W: every channel of a position contiguous.
TensorId projection(Graph& g, TensorId x, TensorId weight, TensorId bias, bool positions_major = false);
// S[b, i, j] = scale * sum_c Q[b, c, i] K[b, c, j] -> (B, N, N), N = H*W.
TensorId scores(Graph& g, ChannelSlice query, ChannelSlice key, float scale);
// Softmax over the last dimension, numerically stable.
TensorId softmax(Graph& g, TensorId x);
// log(softmax(x)) over the last dimension: x - max - log(sum exp(x - max)).
TensorId log_softmax(Graph& g, TensorId x);
// O[b, c, i] = sum_j V[b, c, j] A[b, i, j] -> (B, Cv, H, W) with V's spatial shape.
TensorId attend(Graph& g, ChannelSlice value, TensorId attention);
// Keys and values of every position, position-major, as the fused attention reads them: (B, N,
// key_value_row(Cq, Cv)), each row the key (Cq), zeros to a multiple of 4, the value (Cv), zeros
// to a multiple of 4 (kernels read rows as whole vec4 texels). A projection with positions_major
// whose weights are so padded with zero rows makes it.
constexpr int64_t padded4(int64_t n) { return (n + 3) / 4 * 4; }
constexpr int64_t key_value_row(int64_t key_channels, int64_t value_channels) {
  return padded4(key_channels) + padded4(value_channels);
}
// O[b, c, i] = sum_j softmax_j(scale * q_i . k_j) v[c, j] without storing the (N, N) map: one
// pass over blocks of keys with a running max and sum. q is a (B, *, N) channel slice of Cq
// channels; kv holds Cq key and value_channels value channels as key_value_row says. Returns
// out (B, Cv, N) with q's spatial shape, and stats (B, groups, 2, N): each query's score max
// and softmax sum, which attention_map reads.
struct FusedAttention {
  TensorId out, stats;
};
// With additive weights u (Cq values) the score is scale * sum_c u_c tanh(q_c + k_c) instead.
// With `residual`, out is gamma O + x instead (the SAGAN block's y), in the same pass.
struct ResidualInput {
  TensorId x, gamma;  // x shaped as O, gamma one value
};
FusedAttention attention(Graph& g, ChannelSlice query, TensorId kv, int64_t value_channels, float scale,
                         std::optional<TensorId> additive = std::nullopt,
                         std::optional<ResidualInput> residual = std::nullopt);
// The map A[b, i, j] = softmax_j(scale * q_i . k_j) -> (B, N, N), recomputed from the same q and
// kv and attention's stats, written in blocks of rows: no binding limit, only device memory.
TensorId attention_map(Graph& g, ChannelSlice query, TensorId kv, TensorId stats, float scale,
                       std::optional<TensorId> additive = std::nullopt);
// Entries [first, first + count) of every vector along one axis divided by max(their L2 norm,
// 1e-12), as F.normalize; the other entries copied. channels: the vectors run along dim 1 of a
// (B, C, ...) tensor; rows: along the last dim of a (B, ..., R) tensor.
enum class NormalizeAlong { channels, rows };
TensorId l2_normalize(Graph& g, TensorId x, NormalizeAlong along, int64_t first, int64_t count);
// y = gamma * o + x, gamma a one-element weight.
TensorId residual(Graph& g, TensorId o, TensorId x, TensorId gamma);
// k tensors of one shape (B, ...) -> (B, k, ...), as torch.stack(tensors, dim=1).
TensorId stack(Graph& g, const std::vector<TensorId>& tensors);

// --- hard attention (AG-CNN's crop) ---
// Mean over dim 1: (B, R, L) -> (B, L). From an attention map (B, N, N), the attention each
// position receives.
TensorId column_mean(Graph& g, TensorId x);
// From heatmaps (B, h * w) over an h x w grid that covers an image of image.h x image.w pixels:
// per item the smallest box of cells whose value is >= threshold * the item's maximum, as pixel
// bounds (B, 4) = top, left, bottom, right (ends exclusive): rows floor(r0 H / h) to
// ceil((r1 + 1) H / h), columns alike. threshold in [0, 1].
TensorId attention_box(Graph& g, TensorId heatmap, Size2 grid, Size2 image, float threshold);
// Each item's box (B, 4) of image (B, C, H, W), resized to (B, C, size.h, size.w) as
// F.interpolate(crop, size, mode="bilinear", align_corners=False). Boxes are clamped to the image.
TensorId crop_resize(Graph& g, TensorId image, TensorId boxes, Size2 size);
// The three together, as the attention_crop layer runs them: from an attention map (B, N, N)
// over an h x w grid (N = h w), each item's box of image (B, C, H, W) and that box resized.
struct AttentionCrop {
  TensorId received, boxes, crop;  // (B, N), (B, 4), (B, C, size.h, size.w)
};
AttentionCrop attention_crop(Graph& g, TensorId map, Size2 grid, TensorId image, float threshold, Size2 size);

// An attention map as a picture, what the samples draw over their inputs: from a map (B, N, N)
// over an h x w grid (N = h w), the attention each position receives (the column means), scaled
// per item to [0, 1] by its own minimum and maximum (0 everywhere where they are equal; NaN
// everywhere where the map has a NaN), then resized to `size` as F.interpolate(mode="bilinear",
// align_corners=False): (B, 1, size.h, size.w). An ImageOutput with the viridis colour map makes
// it a texture.
TensorId attention_heatmap(Graph& g, TensorId map, Size2 grid, Size2 size);

// --- the layers around it (PyTorch semantics) ---
// Cross-correlation with zero padding, as torch.nn.Conv2d:
// (B, C, H, W) x weight (M, C / groups, KH, KW) + bias (M) -> (B, M, OH, OW),
// OH = (H + 2 pad.h - dilation.h (KH - 1) - 1) / stride.h + 1 (rounded down), OW likewise.
// groups must divide C and M: output channel m reads the C / groups input channels of its group
// (groups = C = M: depthwise).
TensorId conv2d(Graph& g, TensorId x, TensorId weight, TensorId bias, Size2 stride = {1, 1}, Size2 padding = {0, 0},
                int64_t groups = 1, Size2 dilation = {1, 1});
// max(x, 0), any shape.
TensorId relu(Graph& g, TensorId x);
// x for x >= 0 and slope * x below (torch.nn.LeakyReLU; SAGAN uses slope 0.1), any shape.
TensorId leaky_relu(Graph& g, TensorId x, float slope);
// 1 / (1 + e^-x) and tanh(x), elementwise on any shape.
TensorId sigmoid(Graph& g, TensorId x);
TensorId tanh(Graph& g, TensorId x);
// Pooling over kernel windows, as torch.nn.MaxPool2d / AvgPool2d: padded positions never win a
// max and count as zeros in the average. padding must be at most half the kernel, as in PyTorch.
// ceil_mode rounds the output size up, but keeps a last window only if it starts inside the
// input or its left padding. A max over a window with no input element (a dilated one can have
// none) is -inf.
struct MaxPool2dOptions {
  Size2 dilation{1, 1};  // the kernel's taps dilation apart
  bool ceil_mode = false;
};
// The average divides by divisor_override when it is not 0, else by the window's size clipped to
// the padded input (count_include_pad), or to the input itself (count_include_pad false).
struct AvgPool2dOptions {
  bool ceil_mode = false;
  bool count_include_pad = true;
  int64_t divisor_override = 0;
};
TensorId max_pool2d(Graph& g, TensorId x, Size2 kernel, Size2 stride, Size2 padding = {0, 0},
                    MaxPool2dOptions options = {});
TensorId avg_pool2d(Graph& g, TensorId x, Size2 kernel, Size2 stride, Size2 padding = {0, 0},
                    AvgPool2dOptions options = {});
// Mean over H and W: (B, C, H, W) -> (B, C, 1, 1), as torch.nn.AdaptiveAvgPool2d(1).
TensorId global_avg_pool2d(Graph& g, TensorId x);
// Squeeze-and-excitation, as torchvision.ops.SqueezeExcitation on (B, C, H, W):
// x * sigmoid(fc2(max(fc1(mean over H, W), 0))), fc1 (S, C) + (S), fc2 (C, S) + (C), S <= 4096.
TensorId squeeze_excitation(Graph& g, TensorId x, TensorId fc1_weight, TensorId fc1_bias, TensorId fc2_weight,
                            TensorId fc2_bias);
// (B, d1, d2, ...) -> (B, d1 * d2 * ...), in C order.
TensorId flatten(Graph& g, TensorId x);
// a + b, a - b, a * b, a / b and a ^ b elementwise with PyTorch's broadcasting (shapes aligned from
// the right; each dimension equal or 1), IEEE arithmetic (x / 0 is inf or NaN, as in PyTorch). pow
// is numpy's float32 power (ONNX Pow): a negative base with a whole exponent keeps the sign the
// exponent's parity gives ((-2)^3 = -8), with any other exponent it is NaN, and x^0 = 1. Either
// may be a constant (a (C, 1, 1) per-channel tensor, a scalar of shape ()). At most 7 dimensions.
// minimum and maximum give NaN where either operand is NaN, as torch.minimum and torch.maximum.
enum class Binary : uint32_t { add = 0, sub = 1, mul = 2, div = 3, pow = 4, minimum = 5, maximum = 6 };
TensorId binary(Graph& g, Binary op, TensorId a, TensorId b);
// (B, ..., F) x weight (M, F) + bias (M) -> (B, ..., M), as torch.nn.Linear: over the last dimension.
TensorId linear(Graph& g, TensorId x, TensorId weight, TensorId bias);

// --- layout and reductions (PyTorch semantics); dims count the batch as 0, negative ones count
// from the end, and none of these moves or cuts the batch ---
// The same elements in C order with item shape `item_shape` (without the batch; at most one -1).
TensorId reshape(Graph& g, TensorId x, Shape item_shape);
// torch.permute: dims names every dimension once, dims[0] = 0.
TensorId permute(Graph& g, TensorId x, std::vector<int64_t> dims);
// torch.as_strided within each batch item, the item read as a flat array: out[b, c] =
// x[b, offset + sum_d c_d strides[d]] for c over `shape` (both without the batch); strides >= 0.
// With `result` the output's items have that shape instead (the same elements in C order).
TensorId as_strided(Graph& g, TensorId x, Shape shape, std::vector<int64_t> strides, int64_t offset = 0,
                    Shape result = {});
// A constant (1, ...) repeated over the batch of `like`: (B, ...), as c.expand(B, ...).
TensorId expand(Graph& g, TensorId like, TensorId constant);
// torch.roll(x, shifts, dims) along dims >= 1: element i of a rolled dimension of size n moves to
// (i + shift) mod n; a dim named twice rolls by the sum.
TensorId roll(Graph& g, TensorId x, std::vector<int64_t> shifts, std::vector<int64_t> dims);
// x[..., start:end:step, ...] along dim >= 1, start and end clamped as Python's (negative ones
// count from the end); step >= 1; the result must not be empty.
TensorId slice(Graph& g, TensorId x, int64_t dim, int64_t start = 0, int64_t end = INT64_MAX, int64_t step = 1);
// torch.cat of 1 to 256 tensors along dim >= 1; every other dimension equal.
TensorId cat(Graph& g, const std::vector<TensorId>& tensors, int64_t dim);
// torch.sum, torch.mean and torch.amax over a set of dims after the batch (amax keeps NaN).
enum class Reduce : uint32_t { sum = 0, mean = 1, amax = 2 };
TensorId reduce(Graph& g, TensorId x, Reduce kind, std::vector<int64_t> dims, bool keepdim = false);
TensorId sum(Graph& g, TensorId x, std::vector<int64_t> dims, bool keepdim = false);
TensorId mean(Graph& g, TensorId x, std::vector<int64_t> dims, bool keepdim = false);
TensorId amax(Graph& g, TensorId x, std::vector<int64_t> dims, bool keepdim = false);
// --- transposed convolution (conv unit) ---
// As torch.nn.ConvTranspose2d: (B, C, H, W) x weight (C, M / groups, KH, KW) + bias (M) ->
// (B, M, OH, OW), OH = (H - 1) stride.h - 2 padding.h + dilation.h (KH - 1) + output_padding.h + 1,
// OW likewise. groups must divide C; output_padding must be below the stride or the dilation.
TensorId conv_transpose2d(Graph& g, TensorId x, TensorId weight, TensorId bias, Size2 stride = {1, 1},
                          Size2 padding = {0, 0}, Size2 output_padding = {0, 0}, int64_t groups = 1,
                          Size2 dilation = {1, 1});
// --- adaptive pooling and resampling (pool unit) ---
// As torch.nn.AdaptiveAvgPool2d / AdaptiveMaxPool2d: (B, C, H, W) -> (B, C, size.h, size.w),
// output row i pooling input rows floor(i H / size.h) to ceil((i + 1) H / size.h) (exclusive),
// columns alike; any size, larger than the input too. The max keeps NaN.
TensorId adaptive_avg_pool2d(Graph& g, TensorId x, Size2 size);
TensorId adaptive_max_pool2d(Graph& g, TensorId x, Size2 size);
// As torch 1.13's F.interpolate on (B, C, H, W) -> (B, C, size.h, size.w). nearest is the legacy
// 'nearest': source index floor(dst * scale) in float32, at most H - 1; bilinear takes source
// coordinate (dst + 0.5) scale - 0.5 (at least 0), or dst (H - 1) / (size.h - 1) with
// align_corners. scale is in / out, or 1 / scales.h where scales are given (F.interpolate's
// scale_factor without recompute_scale_factor: size is then floor(H scales.h)). With one channel
// nearest follows PyTorch's channels-last kernel, which such a tensor takes: dst at the same size,
// dst / 2 at twice it, whatever the scale. align_corners goes with bilinear only, as in PyTorch.
enum class Interpolation { nearest, bilinear };
struct Scale2 {
  double h = 1, w = 1;
};
TensorId interpolate(Graph& g, TensorId x, Interpolation mode, Size2 size, std::optional<Scale2> scales = std::nullopt,
                     bool align_corners = false);
// --- modern activations, batch norm, softmax over any dim (activation, batch_norm, softmax units) ---
// torch.clamp (F.hardtanh, F.relu6) on any shape: min(max(x, min), max), either bound optional
// (not both); min > max gives max, NaN stays NaN.
TensorId clamp(Graph& g, TensorId x, std::optional<float> min, std::optional<float> max);
// Elementwise on any shape, as nn.Hardswish (x relu6(x + 3) / 6), nn.Hardsigmoid (relu6(x + 3) / 6),
// nn.SiLU (x sigmoid(x)), nn.GELU (x Phi(x); with tanh_approximation its approximate="tanh" form)
// and nn.ELU (x above 0, alpha (e^x - 1) below).
TensorId hardswish(Graph& g, TensorId x);
TensorId hardsigmoid(Graph& g, TensorId x);
TensorId silu(Graph& g, TensorId x);
TensorId gelu(Graph& g, TensorId x, bool tanh_approximation = false);
TensorId elu(Graph& g, TensorId x, float alpha = 1.f);
// Elementwise math on any shape, as torch.exp, torch.log (NaN below 0, -inf at 0), torch.abs,
// torch.floor, torch.ceil, torch.round (half to even), torch.erf, F.softsign and F.mish.
enum class Unary : uint32_t { exp, log, abs, floor, ceil, round, erf, softsign, mish };
TensorId unary(Graph& g, Unary f, TensorId x);
// F.softplus: ln(1 + e^(beta x)) / beta, or x where beta x > threshold; beta finite and not 0.
TensorId softplus(Graph& g, TensorId x, float beta = 1.f, float threshold = 20.f);
// y[b, c, ...] = x[b, c, ...] * scale[c] + shift[c] on (B, C, ...) of rank >= 2; scale and shift (C).
TensorId channel_affine(Graph& g, TensorId x, TensorId scale, TensorId shift);
// Eval-mode nn.BatchNorm1d/2d/3d on (B, C, ...): (x - running_mean) / sqrt(running_var + eps) *
// weight + bias, weight and bias optional (affine=False), each (C). Folded on the host, in double,
// into channel_affine's scale and shift, which become weights "<name>.scale" and "<name>.shift".
TensorId batch_norm(Graph& g, TensorId x, const HostTensor& running_mean, const HostTensor& running_var,
                    const std::optional<HostTensor>& weight = std::nullopt,
                    const std::optional<HostTensor>& bias = std::nullopt, double eps = 1e-5,
                    const std::string& name = "batch_norm");
// softmax and log_softmax over dimension dim of a tensor of rank >= 2 (negative counts from the
// end; dim 0, the batch, is refused). The overloads without dim above take the last dimension.
TensorId softmax(Graph& g, TensorId x, int64_t dim);
TensorId log_softmax(Graph& g, TensorId x, int64_t dim);
// --- local self-attention (SASA, Ramachandran et al. 2019; local_attention unit) ---
// q, k and v: C channels each of (B, *, H, W) tensors of one batch and image size (slices of one
// stacked projection, say); head t reads channels [t d, (t + 1) d), d = C / heads, even. Per head
// and position (i, j): y_ij = sum_(a,b) softmax_(a,b)(q_ij . (k_(i+a-K/2, j+b-K/2) + r(a, b))) v_(same),
// no scale, over the K x K window (K = kernel_size, odd), the softmax only over positions inside
// the image (none padded: a kernel larger than the image is fine). r(a, b) = concat(rel_h[:, a],
// rel_w[:, b]), rel_h and rel_w (d / 2, K), the same for every head. Returns y (B, C, H, W) and,
// with `map`, the weights (B, heads, H W, K K), entry a K + b, 0 outside the image.
struct LocalAttention {
  TensorId y;
  std::optional<TensorId> map;
};
LocalAttention local_attention(Graph& g, ChannelSlice q, ChannelSlice k, ChannelSlice v, TensorId rel_h,
                               TensorId rel_w, int64_t heads, int64_t kernel_size, bool map = false);
// --- attention over tokens (token_attention unit) ---
// softmax(scale q k^T + bias) v as transformers write it: q (B, ..., Nq, d), k (B, ..., Nk, d),
// v (B, ..., Nk, dv) with the same dimensions between the batch and the rows (the heads, Swin's
// windows) -> (B, ..., Nq, dv). scale defaults to 1 / sqrt(d). bias (an activation or a constant)
// broadcasts to the scores (B, ..., Nq, Nk) as PyTorch broadcasts (-inf masks a key). Fused: no
// (Nq, Nk) scores are stored; with `map` the softmax weights (B, ..., Nq, Nk) are made too.
struct TokenAttention {
  TensorId out;
  std::optional<TensorId> map;
};
TokenAttention token_attention(Graph& g, TensorId q, TensorId k, TensorId v, std::optional<TensorId> bias = std::nullopt,
                               std::optional<float> scale = std::nullopt, bool map = false);
// --- layer norm and matmul for vision transformers (layer_norm, matmul units) ---
// As torch.nn.LayerNorm in eval over the last normalized_dims dimensions of x (rank >= 2; from 1
// to rank - 1, never the batch): y = (x - mean) / sqrt(var + eps) * weight + bias, var biased,
// weight and bias each of the normalised shape and optional (elementwise_affine=False; either
// alone too). A row holding NaN or an infinity is NaN.
TensorId layer_norm(Graph& g, TensorId x, int64_t normalized_dims, std::optional<TensorId> weight,
                    std::optional<TensorId> bias, float eps = 1e-5f);
// The channels-first form (ConvNeXt's LayerNorm2d): over dim 1 of (B, C, ...) at each position;
// weight and bias (C).
TensorId layer_norm_channels(Graph& g, TensorId x, std::optional<TensorId> weight, std::optional<TensorId> bias,
                             float eps = 1e-5f);
// As torch.matmul of a (..., M, K) and b (..., K, N) -> (..., M, N): the dims before the last two
// broadcast as PyTorch's (aligned from the right, each equal or 1). One operand has rank >= 3 and
// carries the batch; the other may lack it (a constant: a (K, N) weight, or (h, K, N)). Operands
// of rank 1 are refused.
TensorId matmul(Graph& g, TensorId a, TensorId b);
// --- padding (pad unit) ---
// As F.pad on (B, ...): pads[k] = (before, after) elements added to dimension rank - 1 - k (pads[0]
// the last dimension, as F.pad's flat list (left, right, top, bottom, ...) pairs them), at most
// rank - 1 pairs so that the batch is never padded. A negative count crops instead (ONNX Pad;
// F.pad in constant mode). constant fills with value; reflect mirrors the input without repeating
// its edge (numpy's 'reflect', every positive pad below the dimension's size); edge (F.pad's
// 'replicate') repeats the edge element. Every dimension of the result must keep an element.
enum class PadMode : uint32_t { constant = 0, reflect = 1, edge = 2 };
TensorId pad(Graph& g, TensorId x, std::vector<std::pair<int64_t, int64_t>> pads, PadMode mode = PadMode::constant,
             float value = 0.f);
}  // namespace ops

}  // namespace vkattn
