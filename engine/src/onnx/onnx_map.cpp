// ONNX ops on values the engine computes, each as the engine's layers (docs/network-format.md).
// What an op's attributes ask for that the engine's layer does not do is refused by name.
#include <cctype>
#include <cmath>
#include <functional>
#include <map>
#include <numeric>

#include "onnx/converter.h"
#include "onnx/views.h"
#include "vkattn/error.h"
#include "vkattn/ops.h"

namespace vkattn::onnx_import {
namespace {

using json = nlohmann::json;
using Value = Converter::Value;

// Input i, which must be computed from the model's input (a constant there is refused: vkattn
// evaluates constants only through the ops onnx_fold.cpp knows), as a plain engine value (a view
// is laid out with the batch first, or refused).
Value computed(Converter& c, int i) {
  const Value& v = c.input(i);
  if (v.constant)
    c.refuse("its input " + std::to_string(i) + " is a constant, and vkattn computes this op only on values computed "
             "from the model's input.");
  return plain(c, v);
}

// Refuses attributes other than `known` (an attribute vkattn would silently ignore could change
// the result).
void only_attributes(Converter& c, std::initializer_list<const char*> known) {
  for (const auto& a : c.node().attribute())
    if (std::none_of(known.begin(), known.end(), [&](const char* k) { return a.name() == k; }))
      c.refuse("its attribute '" + a.name() + "' is not one vkattn reads for this op.");
}

// Outputs after the first must be unread (BatchNormalization's running statistics, Dropout's mask).
void only_first_output(Converter& c) {
  for (int i = 1; i < c.node().output_size(); ++i)
    if (c.output_used(i)) c.refuse("its output " + std::to_string(i) + " is read, which vkattn does not compute.");
}

// A constant operand as the engine holds it: without the leading dims that would align with the
// batch (1s there; a constant that differs along a free batch is refused).
HostArray batchless(Converter& c, HostArray k, const Value& like) {
  const size_t item_rank = like.shape.size() - (c.implicit_batch() ? 0 : 1);
  if (k.shape.size() > like.shape.size()) c.refuse("its constant operand " + to_string(k.shape) + " has more dimensions than the computed one " + to_string(like.shape) + ".");
  while (k.shape.size() > item_rank) {
    if (k.shape[0] != 1) {
      // The same for every batch item (an exporter expanded it to the traced batch): keep one.
      const int64_t item = count_of(Shape(k.shape.begin() + 1, k.shape.end()));
      for (int64_t i = item; i < k.count(); ++i)
        if (k.values[size_t(i)] != k.values[size_t(i % item)])
          c.refuse("its constant operand " + to_string(k.shape) + " differs between batch items.");
      k.values.resize(size_t(item));
    }
    k.shape.erase(k.shape.begin());
  }
  return k;
}

std::string constant_weight(Converter& c, const HostArray& k) {
  const std::string name = c.fresh_name() + ".constant";
  c.add_weight(name, k);
  return name;
}

// A constant made a value with the batch of `like`: one item repeated (ViT's class token expanded
// to the batch, then joined to the patches).
std::string constant_value(Converter& c, const HostArray& k, const Value& like) {
  HostArray item = batchless(c, k, like);
  item.shape.insert(item.shape.begin(), 1);
  Shape shape = item.shape;
  if (!c.implicit_batch()) shape[0] = like.shape[0];
  else shape.erase(shape.begin());
  return c.emit("expand", {like.name}, {{"constant", constant_weight(c, item)}}, shape);
}

// A window op's list attribute as the 2-D op reads it: a 1-D op (on (N, C, L), run as 2-D on
// (N, C, 1, L)) gets a height of 1 (0 for output_padding) put first, and its pads [begin, end]
// become [0, begin, 0, end]. A list of another length is passed on for the caller to refuse.
std::vector<int64_t> window_ints(Converter& c, const std::string& name, const std::vector<int64_t>& fallback, bool one_d) {
  if (!one_d) return c.attr_ints(name, fallback);
  if (name == "pads") {
    const auto p = c.attr_ints(name, {fallback[1], fallback[3]});
    return p.size() == 2 ? std::vector<int64_t>{0, p[0], 0, p[1]} : p;
  }
  const auto v = c.attr_ints(name, {fallback[1]});
  return v.size() == 1 ? std::vector<int64_t>{name == "output_padding" ? 0 : 1, v[0]} : v;
}

// {top, left, bottom, right} of a 2-D window op from pads or auto_pad.
std::array<int64_t, 4> pads_of(Converter& c, const Shape& x, Size2 k, Size2 s, Size2 d, bool one_d) {
  const std::string mode = c.attr_string("auto_pad", "NOTSET");
  if (mode == "NOTSET") {
    const auto p = window_ints(c, "pads", {0, 0, 0, 0}, one_d);
    if (p.size() != 4) c.refuse("its pads are not 4 numbers.");
    for (int64_t v : p)
      if (v < 0) c.refuse("a pad is negative.");
    return {p[0], p[1], p[2], p[3]};
  }
  if (mode == "VALID") return {0, 0, 0, 0};
  if (mode != "SAME_UPPER" && mode != "SAME_LOWER") c.refuse("its auto_pad '" + mode + "' is not one ONNX defines.");
  std::array<int64_t, 4> p{};
  const int64_t in[2] = {x[2], x[3]}, kk[2] = {k.h, k.w}, ss[2] = {s.h, s.w}, dd[2] = {d.h, d.w};
  for (int a = 0; a < 2; ++a) {
    const int64_t out = (in[a] + ss[a] - 1) / ss[a];
    const int64_t total = std::max<int64_t>(0, (out - 1) * ss[a] + (kk[a] - 1) * dd[a] + 1 - in[a]);
    const int64_t small = total / 2, big = total - small;
    p[a] = mode == "SAME_UPPER" ? small : big;
    p[a + 2] = mode == "SAME_UPPER" ? big : small;
  }
  return p;
}

bool same(Size2 a, Size2 b) { return a.h == b.h && a.w == b.w; }

Value slice_along(Converter& c, const Value& x, int64_t axis, int64_t start, int64_t end, int64_t step,
                  std::optional<int> output);
Value gathered(Converter& c, const Value& x, int64_t axis, const std::vector<int64_t>& at, std::optional<int> output);

// A window attribute's two values (kernel_shape, strides, dilations, output_padding), each >= 1
// but output padding (>= 0).
Size2 pair(Converter& c, const char* name, Size2 fallback, bool one_d) {
  const auto v = window_ints(c, name, {fallback.h, fallback.w}, one_d);
  if (v.size() != 2) c.refuse("its " + std::string(name) + " has " + std::to_string(v.size()) + " values; vkattn runs 1-D and 2-D windows.");
  const int64_t least = std::string(name) == "output_padding" ? 0 : 1;
  if (v[0] < least || v[1] < least) c.refuse("its " + std::string(name) + " are not at least " + std::to_string(least) + ".");
  return {v[0], v[1]};
}

// Symmetric padding as the engine's layers take it, or a refusal.
Size2 symmetric(Converter& c, const std::array<int64_t, 4>& p) {
  if (p[0] != p[2] || p[1] != p[3])
    c.refuse("its padding (top " + std::to_string(p[0]) + ", left " + std::to_string(p[1]) + ", bottom " +
             std::to_string(p[2]) + ", right " + std::to_string(p[3]) + ") is asymmetric, which vkattn's layer does not take.");
  return {p[0], p[1]};
}

// x padded by {top, left, bottom, right} as its own node (zeros, or with `edge` the nearest
// element): for the pads the window layers do not take (asymmetric, or over half the window).
Value padded(Converter& c, const Value& x, const std::array<int64_t, 4>& p, bool edge) {
  const Shape shape = {x.shape[0], x.shape[1], x.shape[2] + p[0] + p[2], x.shape[3] + p[1] + p[3]};
  json keys = {{"pad", {p[1], p[3], p[0], p[2]}}, {"mode", edge ? "edge" : "constant"}};
  return {std::nullopt, c.emit("pad", {x.name}, keys, shape), shape};
}

// A 1-D window op's input (N, C, L) as the (N, C, 1, L) its 2-D form reads.
Value lifted(Converter& c, const Value& x) {
  const Shape shape = {x.shape[0], x.shape[1], 1, x.shape[2]};
  return {std::nullopt, c.emit("reshape", {x.name}, {{"shape", c.item_shape(shape)}}, shape), shape};
}

// The 2-D form's result (N, M, 1, L') as the op's output 0, (N, M, L').
void lowered(Converter& c, const std::string& name, const Shape& shape) {
  const Shape out = {shape[0], shape[1], shape[3]};
  c.emit("reshape", {name}, {{"shape", c.item_shape(out)}}, out, 0);
}

void require_image(Converter& c, const Value& x) {
  if (x.shape.size() != 4) c.refuse("its input is " + to_string(x.shape) + "; vkattn runs this op on 2-D images (N, C, H, W).");
  if (c.implicit_batch()) c.refuse("its model has a fixed batch; vkattn runs image ops on models whose batch is free.");
}

// A (transposed) convolution's input and weight, as its 2-D form reads them (a 1-D one lifted to
// (N, C, 1, L)), with its window, stride and dilation.
struct ConvolutionInput {
  Value x;
  HostArray w;
  bool one_d;
  Size2 k, s, d;
};
ConvolutionInput convolution_input(Converter& c, const std::string& what) {
  Value x = computed(c, 0);
  HostArray w = c.constant_input(1, "weight");
  const bool one_d = w.shape.size() == 3 && x.shape.size() == 3;
  if ((w.shape.size() != 4 || x.shape.size() != 4) && !one_d)
    c.refuse("it is a " + std::to_string(int(w.shape.size()) - 2) + "-D " + what + "; vkattn runs 1-D and 2-D ones.");
  if (one_d) {
    x = lifted(c, x);
    const Shape shape = {w.shape[0], w.shape[1], 1, w.shape[2]};
    w = reshaped(std::move(w), shape);
  }
  require_image(c, x);
  const Size2 k{w.shape[2], w.shape[3]}, s = pair(c, "strides", {1, 1}, one_d), d = pair(c, "dilations", {1, 1}, one_d);
  if (!same(pair(c, "kernel_shape", k, one_d), k)) c.refuse("its kernel_shape differs from its weight's.");
  return {std::move(x), std::move(w), one_d, k, s, d};
}

void map_conv(Converter& c) {
  only_attributes(c, {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"});
  auto [x, w, one_d, k, s, d] = convolution_input(c, "convolution");
  auto pads = pads_of(c, x.shape, k, s, d, one_d);
  if (pads[0] != pads[2] || pads[1] != pads[3]) {  // zeros around the image, then no padding
    x = padded(c, x, pads, false);
    pads = {0, 0, 0, 0};
  }
  const Size2 p = symmetric(c, pads);
  const int64_t groups = c.attr_int("group", 1), M = w.shape[0];
  HostArray b = c.has_input(2) ? c.constant_input(2, "bias") : HostArray{HostArray::Kind::Float, {M}, std::vector<double>(size_t(M), 0)};
  const std::string name = c.fresh_name();
  c.add_weight(name + ".weight", w);
  c.add_weight(name + ".bias", b);
  const Shape out = {x.shape[0], M, (x.shape[2] + 2 * p.h - d.h * (k.h - 1) - 1) / s.h + 1,
                     (x.shape[3] + 2 * p.w - d.w * (k.w - 1) - 1) / s.w + 1};
  const std::string y = c.emit(
      "conv2d", {x.name},
      {{"name", name}, {"stride", {s.h, s.w}}, {"padding", {p.h, p.w}}, {"groups", groups}, {"dilation", {d.h, d.w}}},
      out, one_d ? std::nullopt : std::optional<int>(0));
  if (one_d) lowered(c, y, out);
}

void map_conv_transpose(Converter& c) {
  only_attributes(c, {"auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape", "pads", "strides"});
  auto [x, w, one_d, k, s, d] = convolution_input(c, "transposed convolution");
  const int64_t groups = c.attr_int("group", 1), M = w.shape[1] * groups;
  Size2 op = pair(c, "output_padding", {0, 0}, one_d);
  // The full output before padding is cut: (in - 1) s + d (k - 1) + 1 + output_padding.
  const int64_t full[2] = {(x.shape[2] - 1) * s.h + d.h * (k.h - 1) + 1, (x.shape[3] - 1) * s.w + d.w * (k.w - 1) + 1};
  std::array<int64_t, 4> pads{};
  if (c.has_attr("output_shape")) {
    const auto want = window_ints(c, "output_shape", {1, 1}, one_d);
    if (want.size() != 2) c.refuse("its output_shape is not " + std::string(one_d ? "1 number." : "2 numbers."));
    const std::string mode = c.attr_string("auto_pad", "NOTSET");
    for (int a = 0; a < 2; ++a) {
      const int64_t total = full[a] + (a ? op.w : op.h) - want[size_t(a)];
      if (total < 0) c.refuse("its output_shape is larger than the convolution makes.");
      // ONNX puts the odd pixel at the end unless SAME_UPPER says otherwise.
      pads[size_t(a)] = mode == "SAME_UPPER" ? total - total / 2 : total / 2;
      pads[size_t(a) + 2] = total - pads[size_t(a)];
    }
  } else {
    const std::string mode = c.attr_string("auto_pad", "NOTSET");
    if (mode == "NOTSET") {
      const auto p = window_ints(c, "pads", {0, 0, 0, 0}, one_d);
      if (p.size() != 4) c.refuse("its pads are not " + std::string(one_d ? "2 numbers." : "4 numbers."));
      pads = {p[0], p[1], p[2], p[3]};
    } else if (mode != "VALID") {
      for (int a = 0; a < 2; ++a) {  // SAME: the output is in * stride
        const int64_t total = std::max<int64_t>(0, full[a] + (a ? op.w : op.h) - x.shape[size_t(a) + 2] * (a ? s.w : s.h));
        pads[size_t(a)] = mode == "SAME_UPPER" ? total / 2 : total - total / 2;
        pads[size_t(a) + 2] = total - pads[size_t(a)];
      }
    }
  }
  for (int64_t v : pads)
    if (v < 0) c.refuse("a pad is negative.");
  // The layer crops the smaller pad from both sides (PyTorch's padding); a slice takes the rest
  // off the side that crops more. ONNX's output is full[begin : full + output_padding - end].
  const Size2 p{std::min(pads[0], pads[2]), std::min(pads[1], pads[3])};
  HostArray b = c.has_input(2) ? c.constant_input(2, "bias") : HostArray{HostArray::Kind::Float, {M}, std::vector<double>(size_t(M), 0)};
  const std::string name = c.fresh_name();
  c.add_weight(name + ".weight", w);
  c.add_weight(name + ".bias", b);
  const Shape out = {x.shape[0], M, full[0] + op.h - 2 * p.h, full[1] + op.w - 2 * p.w};
  const Shape want = {x.shape[0], M, full[0] + op.h - pads[0] - pads[2], full[1] + op.w - pads[1] - pads[3]};
  if (want[2] < 1 || want[3] < 1) c.refuse("its pads crop the output to nothing.");
  // Output 0 is the last node: the layer, a slice, or for a 1-D op the reshape after them.
  const bool crop_h = out[2] != want[2], crop_w = out[3] != want[3];
  // one_d by value: clang 14 cannot capture a structured binding
  auto last = [one_d = one_d](bool is_last) { return is_last && !one_d ? std::optional<int>(0) : std::nullopt; };
  Value v{std::nullopt,
          c.emit("conv_transpose2d", {x.name},
                 {{"name", name}, {"stride", {s.h, s.w}}, {"padding", {p.h, p.w}}, {"output_padding", {op.h, op.w}},
                  {"groups", groups}, {"dilation", {d.h, d.w}}},
                 out, last(!crop_h && !crop_w)),
          out};
  const int64_t from_h = pads[0] - p.h, from_w = pads[1] - p.w;
  if (crop_h) v = slice_along(c, v, 2, from_h, from_h + want[2], 1, last(!crop_w));
  if (crop_w) v = slice_along(c, v, 3, from_w, from_w + want[3], 1, last(true));
  if (one_d) lowered(c, v.name, want);
}

void map_pool(Converter& c, bool max) {
  if (max) only_attributes(c, {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"});
  else only_attributes(c, {"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"});
  if (c.output_used(1)) c.refuse("its Indices output is read, which vkattn does not compute.");
  Value x = computed(c, 0);
  const bool one_d = x.shape.size() == 3;
  if (x.shape.size() != 4 && !one_d)
    c.refuse("it pools a rank-" + std::to_string(x.shape.size()) + " value; vkattn pools 1-D and 2-D ones.");
  if (one_d) x = lifted(c, x);
  require_image(c, x);
  const Size2 k = pair(c, "kernel_shape", {0, 0}, one_d), s = pair(c, "strides", {1, 1}, one_d),
              d = pair(c, "dilations", {1, 1}, one_d);
  auto pads = pads_of(c, x.shape, k, s, d, one_d);
  const bool ceil = c.attr_int("ceil_mode", 0) != 0, include_pad = c.attr_int("count_include_pad", 0) != 0;
  // Pads the layers do not take (asymmetric, or over half the window) as a pad node first, where
  // that computes the same: a max pool pads with copies of the nearest element (which every
  // window reaching the padding also holds: ONNX's pads are smaller than the window), an
  // average counting the padding with zeros. (Dilated windows may skip that nearest element.)
  const bool uneven = pads[0] != pads[2] || pads[1] != pads[3] || 2 * std::max(pads[0], pads[2]) > k.h ||
                      2 * std::max(pads[1], pads[3]) > k.w;
  if (uneven && !ceil && (max ? d.h == 1 && d.w == 1 : include_pad)) {
    x = padded(c, x, pads, max);
    pads = {0, 0, 0, 0};
  }
  const Size2 p = symmetric(c, pads);
  json keys = {{"kernel", {k.h, k.w}}, {"stride", {s.h, s.w}}, {"padding", {p.h, p.w}}, {"ceil_mode", ceil}};
  if (max) keys["dilation"] = {d.h, d.w};
  else keys["count_include_pad"] = include_pad;
  // PyTorch's (and the engine's) sizes: a last window starting in the right padding is dropped.
  auto size = [&](int64_t in, int64_t kk, int64_t ss, int64_t pp, int64_t dd) {
    const int64_t span = dd * (kk - 1) + 1, room = in + 2 * pp - span;
    int64_t out = (ceil ? (room + ss - 1) / ss : room / ss) + 1;
    if (ceil && (out - 1) * ss >= in + pp) --out;
    return out;
  };
  const Shape out = {x.shape[0], x.shape[1], size(x.shape[2], k.h, s.h, p.h, d.h), size(x.shape[3], k.w, s.w, p.w, d.w)};
  const std::string y = c.emit(max ? "max_pool2d" : "avg_pool2d", {x.name}, keys, out, one_d ? std::nullopt : std::optional<int>(0));
  if (one_d) lowered(c, y, out);
}

// x as `target` (an ONNX shape): an engine reshape where the batch stays first, else a view.
void reshape_to(Converter& c, const Value& x, const Shape& target) {
  if (x.constant) c.refuse("it reads a constant where vkattn needs a value computed from the model's input.");
  if (target.empty()) c.refuse("it makes a computed value a scalar, which vkattn does not hold.");
  if (!x.index && (c.implicit_batch() || (!target.empty() && target[0] == x.shape[0]))) {
    if (target == x.shape) return c.alias(0, x);
    return void(c.emit("reshape", {x.name}, {{"shape", c.item_shape(target)}}, target, 0));
  }
  if (c.implicit_batch()) c.refuse("it reshapes a value laid out differently.");
  c.alias(0, make_view(x.name, x.index ? x.engine_shape : x.shape, reshaped(index_of(x), target)));
}

void map_reshape(Converter& c) {
  only_attributes(c, {"allowzero"});
  const Value& x = c.input(0);
  std::vector<int64_t> target = c.constant_input(1, "shape").integers("its shape");
  const bool allowzero = c.attr_int("allowzero", 0) != 0;
  int64_t known = 1, unknown = -1;
  for (size_t d = 0; d < target.size(); ++d) {
    if (target[d] == 0 && !allowzero && d < x.shape.size()) target[d] = x.shape[d];
    if (target[d] < -1 || target[d] > (int64_t{1} << 31)) c.refuse("its shape has a size of " + std::to_string(target[d]) + ".");
    if (target[d] == -1) unknown = unknown < 0 ? int64_t(d) : -2;
    else known = target[d] && known > (int64_t{1} << 62) / target[d] ? int64_t{1} << 62 : known * target[d];  // saturates, no overflow
  }
  if (unknown == -2) c.refuse("its shape has more than one -1.");
  if (unknown >= 0) {
    if (known <= 0 || count_of(x.shape) % known) c.refuse("its shape " + to_string(Shape(target)) + " does not fit " + to_string(x.shape) + ".");
    target[size_t(unknown)] = count_of(x.shape) / known;
  }
  if (saturated_product(Shape(target)) != count_of(x.shape)) c.refuse("its shape " + to_string(Shape(target)) + " does not hold " + to_string(x.shape) + ".");
  reshape_to(c, x, Shape(target));
}

int64_t axis_in(Converter& c, int64_t axis, size_t rank) {
  const int64_t r = int64_t(rank);
  if (axis < -r || axis >= r) c.refuse("its axis " + std::to_string(axis) + " is outside a rank-" + std::to_string(r) + " value.");
  return axis < 0 ? axis + r : axis;
}

std::vector<int64_t> axes_input(Converter& c, int64_t from_opset, const std::string& attribute = "axes") {
  if (c.opset() >= from_opset) return c.has_input(1) ? c.constant_input(1, "axes").integers("its axes") : std::vector<int64_t>{};
  return c.attr_ints(attribute, {});
}

void map_squeeze(Converter& c, bool unsqueeze) {
  only_attributes(c, {"axes"});
  const Value& x = c.input(0);
  const auto axes = axes_input(c, 13);
  Shape shape = x.shape;
  if (unsqueeze) {
    std::vector<int64_t> at;
    for (int64_t a : axes) at.push_back(axis_in(c, a, x.shape.size() + axes.size()));
    std::sort(at.begin(), at.end());
    for (int64_t a : at) shape.insert(shape.begin() + a, 1);
  } else {
    shape.clear();
    for (size_t d = 0; d < x.shape.size(); ++d) {
      bool drop = axes.empty() && x.shape[d] == 1 && (d > 0 || c.implicit_batch());
      for (int64_t a : axes) drop |= axis_in(c, a, x.shape.size()) == int64_t(d);
      if (drop && x.shape[d] != 1) c.refuse("it squeezes dimension " + std::to_string(d) + " of size " + std::to_string(x.shape[d]) + ".");
      if (!drop) shape.push_back(x.shape[d]);
    }
  }
  reshape_to(c, x, shape);
}

void map_flatten(Converter& c) {
  only_attributes(c, {"axis"});
  const Value& x = c.input(0);
  int64_t axis = c.attr_int("axis", 1);  // in [-r, r]: a negative one counts from the end, r itself too
  const int64_t r = int64_t(x.shape.size());
  if (axis < -r || axis > r) c.refuse("its axis " + std::to_string(axis) + " is outside [-" + std::to_string(r) + ", " + std::to_string(r) + "].");
  if (axis < 0) axis += r;
  const int64_t outer = count_of(Shape(x.shape.begin(), x.shape.begin() + axis));
  reshape_to(c, x, {outer, count_of(x.shape) / std::max<int64_t>(outer, 1)});
}

void map_transpose(Converter& c) {
  only_attributes(c, {"perm"});
  const Value& x = c.input(0);
  if (x.constant) c.refuse("it reads a constant where vkattn needs a value computed from the model's input.");
  std::vector<int64_t> perm(x.shape.size());
  std::iota(perm.rbegin(), perm.rend(), 0);
  perm = c.attr_ints("perm", perm);
  std::vector<int64_t> order = perm;
  for (int64_t& p : order) p = axis_in(c, p, x.shape.size());
  std::sort(order.begin(), order.end());
  if (perm.size() != x.shape.size() || std::adjacent_find(order.begin(), order.end()) != order.end())
    c.refuse("its perm does not name every dimension once.");
  std::vector<int64_t> dims;
  Shape shape;
  if (c.implicit_batch()) dims.push_back(0);
  for (int64_t p : perm) {
    dims.push_back(axis_in(c, p, x.shape.size()) + (c.implicit_batch() ? 1 : 0));
    shape.push_back(x.shape[size_t(axis_in(c, p, x.shape.size()))]);
  }
  if (std::is_sorted(dims.begin(), dims.end())) return c.alias(0, x);
  if (!x.index && (c.implicit_batch() || dims[0] == 0)) return void(c.emit("permute", {x.name}, {{"dims", dims}}, shape, 0));
  // The batch moves (tokens sequence-first), or the value is a view already: a view.
  for (int64_t& p : perm) p = axis_in(c, p, x.shape.size());
  c.alias(0, make_view(x.name, x.index ? x.engine_shape : x.shape, transposed(index_of(x), perm)));
}

// x[start:end:step] along ONNX axis `axis` (clamped as ONNX's Slice; a negative step goes
// backwards); returns the new value.
Value slice_along(Converter& c, const Value& x, int64_t axis, int64_t start, int64_t end, int64_t step,
                  std::optional<int> output) {
  const int64_t n = x.shape[size_t(axis)];
  auto clamp = [&](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + n : v, 0, n); };
  if (step == 0) c.refuse("it slices with step 0.");
  if (step < 0) {  // backwards from start down to end, exclusive, both clamped to [-1, n - 1] as host_array's
    const int64_t from = std::clamp<int64_t>(start < 0 ? start + n : start, -1, n - 1);
    const int64_t to = std::clamp<int64_t>(end < 0 ? end + n : end, -1, n - 1);
    std::vector<int64_t> at;
    for (int64_t i = from; i > to && at.size() <= 256; i += step) at.push_back(i);
    if (at.size() > 256) c.refuse("it slices backwards over more than 256 elements; vkattn joins up to 256 pieces.");
    return gathered(c, x, axis, at, output);
  }
  const int64_t b = clamp(start), e = clamp(end);
  Shape shape = x.shape;
  shape[size_t(axis)] = e > b ? 1 + (e - b - 1) / step : 0;  // no overflow for any step
  if (shape[size_t(axis)] == 0) c.refuse("it makes an empty value.");
  if (b == 0 && e == n && step == 1) {
    if (output) c.alias(*output, x);
    return x;
  }
  const int64_t dim = c.engine_axis(axis, x.shape.size(), "axis");
  const std::string name = c.emit("slice", {x.name}, {{"dim", dim}, {"start", b}, {"end", e}, {"step", step}}, shape, output);
  return {std::nullopt, name, shape};
}

void map_slice(Converter& c) {
  only_attributes(c, {});
  const Value& in = c.input(0);
  if (in.constant) c.refuse("it reads a constant where vkattn needs a value computed from the model's input.");
  const auto starts = c.constant_input(1, "starts").integers("its starts"), ends = c.constant_input(2, "ends").integers("its ends");
  std::vector<int64_t> axes(starts.size()), steps(starts.size(), 1);
  std::iota(axes.begin(), axes.end(), 0);
  if (c.has_input(3)) axes = c.constant_input(3, "axes").integers("its axes");
  if (c.has_input(4)) steps = c.constant_input(4, "steps").integers("its steps");
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    c.refuse("its starts, ends, axes and steps differ in length.");
  for (auto& a : axes) a = axis_in(c, a, in.shape.size());
  if (in.index) {  // a view: its indices sliced (as onnx_fold's Slice slices a constant)
    for (int64_t st : steps)
      if (st <= 0) c.refuse("it slices with step " + std::to_string(st) + "; vkattn slices forwards only.");
    if (sliced(*in.index, starts, ends, axes, steps).count() == 0) c.refuse("it makes an empty value.");
    return c.alias(0, sub_view(c, in, [&](const HostArray& index) { return sliced(index, starts, ends, axes, steps); }));
  }
  Value x = in;
  for (size_t k = 0; k < starts.size(); ++k)
    x = slice_along(c, x, axes[k], starts[k], ends[k], steps[k],
                    k + 1 == starts.size() ? std::optional<int>(0) : std::nullopt);
  if (starts.empty()) c.alias(0, x);
}

void map_split(Converter& c) {
  only_attributes(c, {"axis", "split"});
  const Value x = c.input(0).index ? c.input(0) : computed(c, 0);
  const int64_t axis = axis_in(c, c.attr_int("axis", 0), x.shape.size()), n = x.shape[size_t(axis)];
  const int outputs = c.node().output_size();
  std::vector<int64_t> sizes = c.opset() >= 13 ? (c.has_input(1) ? c.constant_input(1, "split").integers("its split") : std::vector<int64_t>{})
                                                : c.attr_ints("split", {});
  if (sizes.empty()) {
    if (n % outputs) c.refuse("it splits " + std::to_string(n) + " into " + std::to_string(outputs) + " equal parts.");
    sizes.assign(size_t(outputs), n / outputs);
  }
  for (int64_t size : sizes)
    if (size < 0 || size > n) c.refuse("its split sizes do not add up to the dimension's " + std::to_string(n) + ".");
  if (int(sizes.size()) != outputs || std::accumulate(sizes.begin(), sizes.end(), int64_t{0}) != n)
    c.refuse("its split sizes do not add up to the dimension's " + std::to_string(n) + ".");
  int64_t at = 0;
  for (int i = 0; i < outputs; ++i) {
    if (sizes[size_t(i)] <= 0) c.refuse("it makes an empty part.");
    if (c.output_used(i) && x.index)  // a view: its indices split
      c.alias(i, sub_view(c, x, [&](const HostArray& index) { return sliced(index, {at}, {at + sizes[size_t(i)]}, {axis}, {1}); }));
    else if (c.output_used(i))
      slice_along(c, x, axis, at, at + sizes[size_t(i)], 1, i);
    at += sizes[size_t(i)];
  }
}

// x at indices `at` (each in [0, n)) along ONNX axis `axis`, in that order: runs of consecutive
// indices (or one arithmetic progression) as slices, joined by one cat.
Value gathered(Converter& c, const Value& x, int64_t axis, const std::vector<int64_t>& at, std::optional<int> output) {
  if (at.empty()) c.refuse("it makes an empty value.");
  const int64_t step = at.size() > 1 ? at[1] - at[0] : 1;
  bool progression = step >= 1;
  for (size_t k = 1; k < at.size() && progression; ++k) progression = at[k] - at[k - 1] == step;
  if (progression) return slice_along(c, x, axis, at[0], at.back() + 1, step, output);
  // Where each run of consecutive indices starts; counted before any slice is emitted.
  std::vector<size_t> starts = {0};
  for (size_t k = 1; k < at.size(); ++k)
    if (at[k] != at[k - 1] + 1) starts.push_back(k);
  if (starts.size() > 256) c.refuse("it takes " + std::to_string(starts.size()) + " separate pieces of a dimension; vkattn joins up to 256.");
  starts.push_back(at.size());
  std::vector<std::string> parts;
  for (size_t r = 0; r + 1 < starts.size(); ++r) {
    const int64_t first = at[starts[r]], count = int64_t(starts[r + 1] - starts[r]);
    parts.push_back(slice_along(c, x, axis, first, first + count, 1, std::nullopt).name);
  }
  Shape shape = x.shape;
  shape[size_t(axis)] = int64_t(at.size());
  return {std::nullopt, c.emit("cat", parts, {{"dim", c.engine_axis(axis, x.shape.size(), "axis")}}, shape, output), shape};
}

void map_gather(Converter& c) {
  only_attributes(c, {"axis"});
  if (c.input(0).index) {  // a view: its indices taken
    const Value& v = c.input(0);
    const int64_t axis = axis_in(c, c.attr_int("axis", 0), v.shape.size());
    const HostArray& at = c.constant_input(1, "indices");
    return c.alias(0, sub_view(c, v, [&](const HostArray& index) { return take(index, at, axis, "Gather"); }));
  }
  const Value x = computed(c, 0);
  const HostArray& idx = c.constant_input(1, "indices");
  const int64_t axis = axis_in(c, c.attr_int("axis", 0), x.shape.size()), n = x.shape[size_t(axis)];
  auto at = idx.integers("its indices");
  for (int64_t& i : at) {
    if (i < -n || i >= n) c.refuse("index " + std::to_string(i) + " is outside a dimension of " + std::to_string(n) + ".");
    if (i < 0) i += n;
  }
  // The result: x's dims before the axis, the indices' dims, x's dims after it.
  Shape shape(x.shape.begin(), x.shape.begin() + axis);
  shape.insert(shape.end(), idx.shape.begin(), idx.shape.end());
  shape.insert(shape.end(), x.shape.begin() + axis + 1, x.shape.end());
  if (idx.shape.size() == 1) return void(gathered(c, x, axis, at, 0));
  reshape_to(c, gathered(c, x, axis, at, std::nullopt), shape);
}

void map_concat(Converter& c) {
  only_attributes(c, {"axis"});
  // Computed inputs as plain values (views laid out), each once.
  std::map<int, Value> laid;
  for (int i = 0; i < c.node().input_size(); ++i)
    if (c.has_input(i) && !c.input(i).constant) laid.emplace(i, plain(c, c.input(i)));
  const Value* like = &laid.begin()->second;
  const int64_t rank = int64_t(like->shape.size()), axis = axis_in(c, c.attr_int("axis", 0), size_t(rank));
  std::vector<std::string> parts;
  Shape shape = like->shape;
  shape[size_t(axis)] = 0;
  for (int i = 0; i < c.node().input_size(); ++i) {
    if (!c.has_input(i)) continue;
    const Value& v = c.input(i).constant ? c.input(i) : laid.at(i);
    const Shape s = v.constant ? v.constant->shape : v.shape;
    if (s.size() != size_t(rank)) c.refuse("its inputs differ in rank.");
    if (s[size_t(axis)] == 0) continue;  // an empty part adds nothing
    parts.push_back(v.constant ? constant_value(c, *v.constant, *like) : v.name);
    shape[size_t(axis)] += s[size_t(axis)];
  }
  if (parts.size() > 256) c.refuse("it joins " + std::to_string(parts.size()) + " values; vkattn joins up to 256.");
  c.emit("cat", parts, {{"dim", c.engine_axis(axis, size_t(rank), "axis")}}, shape, 0);
}

void map_binary(Converter& c, const std::string& type) {
  only_attributes(c, {});
  const Value &a0 = c.input(0), &b0 = c.input(1);
  // Two views of one layout run on their engine values; a constant that is one number or one
  // row runs on the rows of a view; anything else reads plain values.
  if (a0.index && b0.index && a0.engine_shape == b0.engine_shape && a0.index->values == b0.index->values &&
      a0.shape == b0.shape) {
    const Laid la = lay_out(c, a0), lb = lay_out(c, b0);  // the same layout
    c.read_back(a0.shape, la.split);
    c.emit(type, {la.name, lb.name}, json::object(), la.engine_shape, 0);
    return;
  }
  const Value* k0 = a0.constant ? &a0 : b0.constant ? &b0 : nullptr;
  const Value* v0 = a0.constant ? &b0 : &a0;
  if (!c.implicit_batch() && (a0.index || b0.index)) {
    const bool one_row = k0 && (k0->constant->count() == 1 || (k0->constant->shape.back() == v0->shape.back() &&
                                                               k0->constant->count() == k0->constant->shape.back()));
    if (k0 && !one_row) {  // a view and any constant: the constant laid out as the view is
      const Laid laid = lay_out(c, *v0);
      const HostArray k = laid_constant(c, *k0->constant, v0->shape, laid.split, laid.engine_shape[0]);
      json keys = {{"constant", constant_weight(c, k)}};
      if (a0.constant && type != "add" && type != "mul") keys["constant_first"] = true;
      c.read_back(v0->shape, laid.split);
      return void(c.emit(type, {laid.name}, keys, laid.engine_shape, 0));
    }
    if (!k0 && a0.shape == b0.shape) {  // two views laid out alike
      const Laid la = lay_out(c, a0), lb = lay_out(c, b0);
      if (la.engine_shape == lb.engine_shape && la.split.dim == lb.split.dim && la.split.outer == lb.split.outer &&
          la.split.inner == lb.split.inner) {
        c.read_back(a0.shape, la.split);
        return void(c.emit(type, {la.name, lb.name}, json::object(), la.engine_shape, 0));
      }
    }
  }
  const bool row_constant = k0 && v0->index &&
                            (k0->constant->count() == 1 ||
                             (k0->constant->shape.back() == v0->shape.back() &&
                              k0->constant->count() == k0->constant->shape.back()));
  const Value a = a0.constant ? a0 : row_constant ? rows(c, a0) : plain(c, a0);
  const Value b = b0.constant ? b0 : row_constant ? rows(c, b0) : plain(c, b0);
  if (!a.constant && !b.constant) {
    if (!c.implicit_batch() && a.shape.size() != b.shape.size())
      c.refuse("its operands " + to_string(a.shape) + " and " + to_string(b.shape) +
               " differ in rank, so broadcasting would not keep the batch first.");
    c.emit(type, {a.name, b.name}, json::object(), broadcast_shapes(a.shape, b.shape, c.node().op_type()), 0);
    return;
  }
  const bool first = bool(a.constant);
  const Value& v = first ? b : a;
  const HostArray k = batchless(c, *(first ? a : b).constant, v);
  const Shape out = broadcast_shapes(v.shape, k.shape, c.node().op_type());
  // A bias right after a linear layer that nothing else reads: into the layer's own bias.
  if (const auto it = c.linear_bias.find(v.name);
      type == "add" && it != c.linear_bias.end() && c.readers(v.name) == 1 && out == v.shape &&
      k.count() == v.shape.back() && (k.shape.size() == 1 || count_of(Shape(k.shape.begin(), k.shape.end() - 1)) == 1)) {
    HostTensor& bias = c.weight(it->second);
    for (size_t m = 0; m < bias.data.size(); ++m) bias.data[m] = float(double(bias.data[m]) + k.values[m]);
    c.linear_bias.erase(it);
    c.alias(0, a0.constant ? b0 : a0);  // the ONNX value as it was (a view stays one)
    return;
  }
  if (out != v.shape) c.refuse("its constant operand " + to_string(k.shape) + " makes the result larger than " + to_string(v.shape) + ".");
  json keys = json::object();
  if (k.count() == 1) keys["scalar"] = k.values[0];
  else keys["constant"] = constant_weight(c, k);
  if (first && type != "add" && type != "mul") keys["constant_first"] = true;
  c.emit(type, {v.name}, keys, out, 0);
}

// a0 @ b0 as output 0 of the node (MatMul's, or Einsum's product).
void matmul_of(Converter& c, const Value& a0, const Value& b0) {
  const Shape sa = a0.constant ? a0.constant->shape : a0.shape, sb = b0.constant ? b0.constant->shape : b0.shape;
  if (sa.size() < 2 || sb.size() < 2) c.refuse("an operand has one dimension; vkattn multiplies matrices.");
  Shape out = broadcast_shapes(Shape(sa.begin(), sa.end() - 2), Shape(sb.begin(), sb.end() - 2), "MatMul");
  out.insert(out.end(), {sa[sa.size() - 2], sb.back()});
  if (sa.back() != sb[sb.size() - 2]) c.refuse("its operands " + to_string(sa) + " and " + to_string(sb) + " do not multiply.");
  if (!a0.constant && b0.constant && sb.size() == 2) {  // x W: a linear layer with W^T and no bias, on rows
    const Value a = rows(c, a0);
    Shape y = a.shape;
    y.back() = sb[1];
    const std::string name = c.fresh_name();
    c.add_weight(name + ".weight", transposed(*b0.constant, {1, 0}));
    c.add_weight(name + ".bias", HostArray{HostArray::Kind::Float, {sb[1]}, std::vector<double>(size_t(sb[1]), 0)});
    c.linear_bias[c.emit("linear", {a.name}, {{"name", name}}, y, 0)] = name + ".bias";
    return;
  }
  if (!a0.constant && !b0.constant) {
    if (!c.implicit_batch() && sa.size() != sb.size())
      c.refuse("its operands " + to_string(sa) + " and " + to_string(sb) + " differ in rank, so the batch would not stay first.");
    if (c.implicit_batch()) return void(c.emit("matmul", {a0.name, b0.name}, json::object(), out, 0));
    // Each laid out with the batch first (attention's (B * heads, N, d) as (B, heads, N, d)): the
    // same way, in the dims before the matrices.
    const Laid a = lay_out(c, a0), b = lay_out(c, b0);
    const size_t r = sa.size();
    if (a.split.dim + 2 >= r || a.split.dim != b.split.dim || a.split.outer != b.split.outer ||
        a.split.inner != b.split.inner)
      c.refuse("its operands " + to_string(sa) + " and " + to_string(sb) + " hold the batch in different places.");
    Shape engine(a.engine_shape.begin(), a.engine_shape.end() - 2);
    if (engine != Shape(b.engine_shape.begin(), b.engine_shape.end() - 2))
      c.refuse("its operands " + to_string(sa) + " and " + to_string(sb) + " do not share their leading dimensions.");
    engine.insert(engine.end(), {sa[r - 2], sb[r - 1]});
    const std::string y = c.emit("matmul", {a.name, b.name}, json::object(), engine);
    c.alias(0, make_view(y, engine, split_index(out, a.split, engine[0])));
    return;
  }
  const bool first = bool(a0.constant);
  const Value v = plain(c, first ? b0 : a0);
  HostArray k = *(first ? a0 : b0).constant;
  if (!c.implicit_batch()) {
    if (k.shape.size() > v.shape.size()) c.refuse("its constant operand has more dimensions than the computed one.");
    while (k.shape.size() >= v.shape.size() && k.shape.size() > 2 && k.shape[0] == 1) k.shape.erase(k.shape.begin());
    if (k.shape.size() >= v.shape.size()) c.refuse("its constant operand " + to_string(k.shape) + " spans the batch.");
  }
  json keys = {{"constant", constant_weight(c, k)}};
  if (first) keys["constant_first"] = true;
  c.emit("matmul", {v.name}, keys, out, 0);
}

void map_matmul(Converter& c) {
  only_attributes(c, {});
  matmul_of(c, c.input(0), c.input(1));
}

// Value x (ONNX indices `labels`) with its dimensions in `order`, then reshaped to `shape`: a view
// (nothing is copied until an op reads it), or a constant.
Value arranged(const Value& x, const std::string& labels, const std::string& order, const Shape& shape) {
  std::vector<int64_t> perm;
  for (char l : order) perm.push_back(int64_t(labels.find(l)));
  if (x.constant) {
    HostArray k = transposed(*x.constant, perm);
    k.shape = shape;
    return {std::move(k), "", {}};
  }
  HostArray index = transposed(index_of(x), perm);
  index.shape = shape;
  return make_view(x.name, x.index ? x.engine_shape : x.shape, std::move(index));
}

// Einsum of one or two operands as Einsum's Python twin in the exporter does it (exporter/table.py
// einsum): a permutation, or each operand permuted and reshaped to (batch..., rows, inner) and
// (batch..., inner, columns), one MatMul, and its product viewed in the output's order.
void map_einsum(Converter& c) {
  only_attributes(c, {"equation"});
  std::string equation;
  for (char ch : c.attr_string("equation", "")) if (ch != ' ') equation += ch;
  if (equation.find("...") != std::string::npos) c.refuse("its equation '" + equation + "' has '...' (write every index out).");
  const std::optional<EinsumTerms> parsed = einsum_terms(equation);
  if (!parsed) c.refuse("its equation '" + equation + "' does not say its output (no '->').");
  const std::vector<std::string>& terms = parsed->inputs;
  const std::string& output = parsed->output;
  const int n = c.node().input_size();
  if (int(terms.size()) != n || (n != 1 && n != 2)) c.refuse("it has " + std::to_string(n) + " operands; vkattn runs one or two.");
  std::map<char, int64_t> size;
  for (int i = 0; i < n; ++i) {
    const Value& x = c.input(i);
    const Shape& shape = x.constant ? x.constant->shape : x.shape;
    const std::string& t = terms[size_t(i)];
    if (t.size() != shape.size()) c.refuse("its operand " + to_string(shape) + " has " + std::to_string(t.size()) + " indices in '" + equation + "'.");
    for (size_t d = 0; d < t.size(); ++d) {
      if (!std::isalpha(static_cast<unsigned char>(t[d])) || t.find(t[d]) != d)
        c.refuse("its equation '" + equation + "' repeats an index within one term or is not letters.");
      if (size.emplace(t[d], shape[d]).first->second != shape[d])
        c.refuse("index " + std::string(1, t[d]) + " of '" + equation + "' has two sizes (broadcasting).");
    }
  }
  for (char l : output)
    if (!size.count(l) || output.find(l) != output.rfind(l)) c.refuse("its output '" + output + "' names an index twice or one no operand has.");
  const auto sizes = [&](const std::string& labels) {
    Shape s;
    for (char l : labels) s.push_back(size.at(l));
    return s;
  };
  if (n == 1) {
    if (output.size() != terms[0].size()) c.refuse("it sums over an index of its one operand.");
    if (c.input(0).constant) c.refuse("it reads a constant where vkattn needs a value computed from the model's input.");
    return c.alias(0, arranged(c.input(0), terms[0], output, sizes(output)));
  }
  Value a0 = c.input(0), b0 = c.input(1);
  std::string a = terms[0], b = terms[1];
  if (a0.constant && b0.constant) c.refuse("both operands are constants where vkattn needs one computed from the model's input.");
  if (a0.constant) {  // the computed operand first: the output names the order
    std::swap(a0, b0);
    std::swap(a, b);
  }
  std::string batch, rows, cols, inner;
  for (char l : output) (a.find(l) != std::string::npos ? (b.find(l) != std::string::npos ? batch : rows) : cols) += l;
  for (char l : a + b)  // summed: by both operands (the inner dimension), or refused
    if (output.find(l) == std::string::npos) {
      if (a.find(l) == std::string::npos || b.find(l) == std::string::npos)
        c.refuse("'" + equation + "' sums index " + std::string(1, l) + " of one operand alone.");
      if (inner.find(l) == std::string::npos) inner += l;
    }
  // A constant second operand broadcasts over the first's leading row indices (as in MatMul):
  // those stay dimensions of their own, the batch among them, instead of merging into the rows.
  const std::string keep = b0.constant && batch.empty() && !rows.empty() ? rows.substr(0, rows.size() - 1) : "";
  const std::string rest = rows.substr(keep.size());
  Shape left = sizes(batch + keep), right = sizes(batch);
  left.insert(left.end(), {count_of(sizes(rest)), count_of(sizes(inner))});
  right.insert(right.end(), {count_of(sizes(inner)), count_of(sizes(cols))});
  matmul_of(c, arranged(a0, a, batch + keep + rest + inner, left), arranged(b0, b, batch + inner + cols, right));
  const std::string order = batch + rows + cols;
  if (rest.size() == 1 && cols.size() == 1 && order == output) return;  // the product is the output
  const Value p = c.value(c.onnx_output(0));  // (lead..., rows, columns): split, then permuted
  HostArray index = index_of(p);
  index.shape = sizes(order);
  std::vector<int64_t> perm;
  for (char l : output) perm.push_back(int64_t(order.find(l)));
  c.alias(0, make_view(p.name, p.index ? p.engine_shape : p.shape, transposed(index, perm)));
}

void map_gemm(Converter& c) {
  only_attributes(c, {"alpha", "beta", "transA", "transB"});
  if (c.input(0).constant) c.refuse("its A is a constant, and vkattn multiplies values computed from the model's input.");
  if (c.input(0).shape.size() != 2) c.refuse("its A is " + to_string(c.input(0).shape) + ", not a matrix.");
  Value a0 = c.input(0);
  if (c.attr_int("transA", 0)) {  // A^T: a view with the dims swapped, or a permute where the batch is fixed
    const Shape t = {a0.shape[1], a0.shape[0]};
    if (c.implicit_batch()) a0 = {std::nullopt, c.emit("permute", {a0.name}, {{"dims", {0, 2, 1}}}, t), t};
    else a0 = make_view(a0.name, a0.index ? a0.engine_shape : a0.shape, transposed(index_of(a0), {1, 0}));
  }
  HostArray w = c.constant_input(1, "B");
  if (w.shape.size() != 2) c.refuse("its B is not a matrix.");
  if (!c.attr_int("transB", 0)) w = transposed(w, {1, 0});  // the linear layer's (N, K)
  const int64_t N = w.shape[0];
  if (w.shape[1] != a0.shape.back()) c.refuse("its A " + to_string(a0.shape) + " and B do not multiply.");
  const Shape out = {a0.shape[0], N};
  const double alpha = c.attr_float("alpha", 1.f), beta = c.attr_float("beta", 1.f);
  for (double& v : w.values) v *= alpha;
  // C: one value per output column goes into the layer's bias; a matrix that differs between
  // rows is added after it (where the rows are not the free batch).
  HostArray bias{HostArray::Kind::Float, {N}, std::vector<double>(size_t(N), 0)};
  std::optional<HostArray> matrix;
  if (c.has_input(2)) {
    HostArray k = c.constant_input(2, "C");
    if (k.shape.size() > 2 || broadcast_shapes(out, k.shape, "Gemm") != out)
      c.refuse("its C " + to_string(k.shape) + " does not broadcast to the output " + to_string(out) + ".");
    for (double& v : k.values) v *= beta;
    k = batchless(c, std::move(k), Value{std::nullopt, "", out});
    if (k.count() == 1 || (k.count() == N && k.shape.back() == N))
      for (int64_t m = 0; m < N; ++m) bias.values[size_t(m)] = k.values[k.count() == 1 ? 0 : size_t(m)];
    else
      matrix = std::move(k);
  }
  if (matrix && a0.index) c.refuse("its C is a matrix and its A a view, which vkattn does not lay out together.");
  const Value a = rows(c, a0);  // (B, K) rows, or the rows of a view: (N * B, C) tokens
  const std::string name = c.fresh_name();
  c.add_weight(name + ".weight", w);
  c.add_weight(name + ".bias", bias);
  Shape y = a.shape;
  y.back() = N;
  const std::string product = c.emit("linear", {a.name}, {{"name", name}}, y, matrix ? std::nullopt : std::optional<int>(0));
  if (matrix) c.emit("add", {product}, {{"constant", constant_weight(c, *matrix)}}, y, 0);
}

void map_batch_norm(Converter& c) {
  only_attributes(c, {"epsilon", "momentum", "training_mode", "spatial"});
  only_first_output(c);
  if (c.attr_int("training_mode", 0)) c.refuse("it normalizes in training mode, with the batch's statistics.");
  const Value& x = computed(c, 0);
  if (x.shape.size() < 2 || x.shape.size() > 5) c.refuse("its input " + to_string(x.shape) + " is not (N, C, ...).");
  if (c.implicit_batch()) c.refuse("its model has a fixed batch; vkattn's batch_norm needs the batch free.");
  const std::string name = c.fresh_name();
  c.add_weight(name + ".weight", c.constant_input(1, "scale"));
  c.add_weight(name + ".bias", c.constant_input(2, "bias"));
  c.add_weight(name + ".running_mean", c.constant_input(3, "mean"));
  c.add_weight(name + ".running_var", c.constant_input(4, "variance"));
  c.emit("batch_norm", {x.name}, {{"name", name}, {"eps", c.attr_float("epsilon", 1e-5f)}}, x.shape, 0);
}

// LayerNormalization's optional outputs: the mean and 1 / sqrt(variance + eps) over the
// normalized axes, kept as size-1 dims.
void layer_norm_statistics(Converter& c, const Value& x, int64_t axis, double eps) {
  std::vector<int64_t> dims;
  Shape kept = x.shape;
  for (int64_t d = axis; d < int64_t(x.shape.size()); ++d) {
    dims.push_back(c.engine_axis(d, x.shape.size(), "axis"));
    kept[size_t(d)] = 1;
  }
  const json over = {{"dims", dims}, {"keepdim", true}};
  const std::string mean = c.emit("mean", {x.name}, over, kept, c.output_used(1) ? std::optional<int>(1) : std::nullopt);
  if (!c.output_used(2)) return;
  const std::string centred = c.emit("sub", {x.name, mean}, json::object(), x.shape);
  const std::string squared = c.emit("mul", {centred, centred}, json::object(), x.shape);
  const std::string variance = c.emit("mean", {squared}, over, kept);
  const std::string shifted = c.emit("add", {variance}, {{"scalar", eps}}, kept);
  c.emit("pow", {shifted}, {{"scalar", -0.5}}, kept, 2);
}

void map_layer_norm(Converter& c) {
  only_attributes(c, {"axis", "epsilon", "stash_type"});
  const bool last = axis_in(c, c.attr_int("axis", -1), c.input(0).shape.size()) + 1 == int64_t(c.input(0).shape.size());
  const Value x = last && !c.output_used(1) && !c.output_used(2) ? rows(c, c.input(0)) : computed(c, 0);
  if (c.output_used(1) || c.output_used(2))
    layer_norm_statistics(c, x, axis_in(c, c.attr_int("axis", -1), x.shape.size()), c.attr_float("epsilon", 1e-5f));
  const int64_t axis = last ? int64_t(x.shape.size()) - 1 : axis_in(c, c.attr_int("axis", -1), x.shape.size());
  c.engine_axis(axis, x.shape.size(), "axis");  // refuses the batch
  const Shape normalized(x.shape.begin() + axis, x.shape.end());
  const std::string name = c.fresh_name();
  auto weight = [&](int i, const char* what, const char* suffix) {
    if (!c.has_input(i)) return;
    HostArray k = c.constant_input(i, what);
    if (count_of(k.shape) != count_of(normalized)) c.refuse("its " + std::string(what) + " is " + to_string(k.shape) + ", not " + to_string(normalized) + ".");
    c.add_weight(name + suffix, reshaped(std::move(k), normalized));
  };
  weight(1, "scale", ".weight");
  weight(2, "bias", ".bias");
  c.emit("layer_norm", {x.name}, {{"name", name}, {"dims", int64_t(normalized.size())}, {"eps", c.attr_float("epsilon", 1e-5f)}}, x.shape, 0);
}

void map_instance_norm(Converter& c) {
  only_attributes(c, {"epsilon"});
  const Value& x = computed(c, 0);
  if (x.shape.size() < 3) c.refuse("its input " + to_string(x.shape) + " is not (N, C, ...).");
  const int64_t C = x.shape[1];
  const std::string normed = c.emit("layer_norm", {x.name}, {{"dims", int64_t(x.shape.size()) - 2}, {"eps", c.attr_float("epsilon", 1e-5f)}}, x.shape);
  Shape per_channel(x.shape.size() - 1, 1);
  per_channel[0] = C;
  if (c.implicit_batch()) per_channel.insert(per_channel.begin(), 1);
  auto channel = [&](int i, const char* what) {
    HostArray k = c.constant_input(i, what);
    if (k.count() != C) c.refuse("its " + std::string(what) + " is not one value per channel.");
    return constant_weight(c, reshaped(std::move(k), per_channel));
  };
  const std::string scaled = c.emit("mul", {normed}, {{"constant", channel(1, "scale")}}, x.shape);
  c.emit("add", {scaled}, {{"constant", channel(2, "bias")}}, x.shape, 0);
}

// A reduction over dims of a view: on its batch-first layout, the dims renamed.
bool reduce_view(Converter& c, const std::string& type, const Value& v, const std::set<int64_t>& reduced, bool keep) {
  const Laid laid = lay_out(c, v);
  std::vector<int64_t> dims;
  Shape out;
  BatchSplit split = laid.split;
  for (int64_t a : reduced) dims.push_back(laid_axis(c, a, laid.split, "axis"));
  for (size_t d = 0; d < v.shape.size(); ++d)
    if (!reduced.count(int64_t(d))) out.push_back(v.shape[d]);
    else if (keep) out.push_back(1);
    else if (d < laid.split.dim) --split.dim;
  Shape engine = laid.engine_shape;
  for (size_t i = dims.size(); i-- > 0;) {
    if (keep) engine[size_t(dims[i])] = 1;
    else engine.erase(engine.begin() + dims[i]);
  }
  const std::string y = c.emit(type, {laid.name}, {{"dims", dims}, {"keepdim", keep}}, engine);
  c.alias(0, make_view(y, engine, split_index(out, split, engine[0])));
  return true;
}

void map_reduce(Converter& c, const std::string& type, int64_t axes_input_from) {
  only_attributes(c, {"axes", "keepdims", "noop_with_empty_axes"});
  if (c.input(0).index) {
    const Value& v = c.input(0);
    std::vector<int64_t> axes = axes_input(c, axes_input_from);
    if (axes.empty()) c.refuse("it reduces every dimension, the batch's too.");
    std::set<int64_t> reduced;
    for (int64_t a : axes) reduced.insert(axis_in(c, a, v.shape.size()));
    std::sort(axes.begin(), axes.end());
    reduce_view(c, type, v, reduced, c.attr_int("keepdims", 1) != 0);
    return;
  }
  const Value& x = computed(c, 0);
  std::vector<int64_t> axes = axes_input(c, axes_input_from);
  const bool keep = c.attr_int("keepdims", 1) != 0;
  if (axes.empty()) {
    if (c.attr_int("noop_with_empty_axes", 0)) return c.alias(0, x);
    axes.resize(x.shape.size());
    std::iota(axes.begin(), axes.end(), 0);
  }
  std::vector<int64_t> dims;
  Shape shape;
  std::set<int64_t> reduced;
  for (int64_t a : axes) reduced.insert(axis_in(c, a, x.shape.size()));
  for (int64_t a : reduced) dims.push_back(c.engine_axis(a, x.shape.size(), "axis"));
  for (size_t d = 0; d < x.shape.size(); ++d)
    if (!reduced.count(int64_t(d))) shape.push_back(x.shape[d]);
    else if (keep) shape.push_back(1);
  c.emit(type, {x.name}, {{"dims", dims}, {"keepdim", keep}}, shape, 0);
}

void map_global_pool(Converter& c, const std::string& type) {
  only_attributes(c, {});
  const Value& x = computed(c, 0);
  if (x.shape.size() < 3) c.refuse("its input " + to_string(x.shape) + " is not (N, C, ...).");
  std::vector<int64_t> dims;
  Shape shape = x.shape;
  for (size_t d = 2; d < x.shape.size(); ++d) {
    dims.push_back(c.engine_axis(int64_t(d), x.shape.size(), "axis"));
    shape[d] = 1;
  }
  c.emit(type, {x.name}, {{"dims", dims}, {"keepdim", true}}, shape, 0);
}

void map_softmax(Converter& c, const std::string& type) {
  only_attributes(c, {"axis"});
  const int64_t rank = int64_t(c.input(0).shape.size());
  const int64_t axis = axis_in(c, c.attr_int("axis", c.opset() >= 13 ? -1 : 1), size_t(rank));
  if (axis == rank - 1) {  // over each row: views too
    const Value x = rows(c, c.input(0));
    return void(c.emit(type, {x.name}, {{"dim", -1}}, x.shape, 0));
  }
  const Value x = computed(c, 0);
  if (c.opset() >= 13 || axis == int64_t(x.shape.size()) - 1) {
    c.emit(type, {x.name}, {{"dim", c.engine_axis(axis, x.shape.size(), "axis")}}, x.shape, 0);
    return;
  }
  // Before opset 13 the softmax runs over all axes from `axis` on, as one row.
  if (!c.implicit_batch() && axis == 0) c.refuse("it takes the softmax over the batch, which vkattn keeps apart.");
  Shape rows(x.shape.begin(), x.shape.begin() + axis);
  rows.push_back(count_of(Shape(x.shape.begin() + axis, x.shape.end())));
  const std::string flat = c.emit("reshape", {x.name}, {{"shape", c.item_shape(rows)}}, rows);
  const std::string soft = c.emit(type, {flat}, {{"dim", -1}}, rows);
  c.emit("reshape", {soft}, {{"shape", c.item_shape(x.shape)}}, x.shape, 0);
}

void map_clip(Converter& c) {
  only_attributes(c, {"min", "max"});
  const Value& x = computed(c, 0);
  json keys = json::object();
  auto bound = [&](int i, const char* key) {
    if (c.opset() < 11 && c.has_attr(key)) keys[key] = c.attr_float(key, 0.f);
    if (c.opset() >= 11 && c.has_input(i)) {
      const HostArray& k = c.constant_input(i, key);
      if (k.count() != 1) c.refuse("its " + std::string(key) + " is not one number.");
      keys[key] = k.values[0];
    }
  };
  bound(1, "min");
  bound(2, "max");
  if (keys.empty()) return c.alias(0, x);
  c.emit("clamp", {x.name}, keys, x.shape, 0);
}

// ONNX Pad: pads [x1_begin, x2_begin, ..., x1_end, ...] (negative ones crop), a constant value.
void map_pad(Converter& c) {
  only_attributes(c, {"mode"});
  const Value& x = computed(c, 0);
  const size_t rank = x.shape.size();
  const auto pads = c.constant_input(1, "pads").integers("its pads");
  if (pads.size() != 2 * rank) c.refuse("its pads are not two per dimension.");
  double value = 0;
  if (c.has_input(2)) {
    const HostArray& k = c.constant_input(2, "constant_value");
    if (k.count() != 1) c.refuse("its constant_value is not one number.");
    value = k.values[0];
  }
  if (c.has_input(3)) c.refuse("it pads only some axes (its axes input), which vkattn does not read.");
  const std::string mode = c.attr_string("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge") c.refuse("its mode '" + mode + "' is not one vkattn pads with.");
  if (!c.implicit_batch() && (pads[0] != 0 || pads[rank] != 0)) c.refuse("it pads the batch dimension, which vkattn keeps apart.");
  // The engine's list: (before, after) from the last dimension back, as F.pad.
  std::vector<int64_t> list;
  size_t first = rank;
  for (size_t d = 0; d < rank; ++d)
    if (pads[d] != 0 || pads[d + rank] != 0) first = std::min(first, d);
  Shape shape = x.shape;
  for (size_t d = rank; d-- > first;) {
    list.insert(list.end(), {pads[d], pads[d + rank]});
    shape[d] += pads[d] + pads[d + rank];
    if (shape[d] < 1) c.refuse("it crops dimension " + std::to_string(d) + " to nothing.");
  }
  if (list.empty()) return c.alias(0, x);
  json keys = {{"pad", list}, {"mode", mode}};
  if (mode == "constant") keys["value"] = value;
  c.emit("pad", {x.name}, keys, shape, 0);
}

// ONNX Resize on (N, C, H, W) where it computes what F.interpolate does: nearest as
// (asymmetric, floor), linear with half_pixel or align_corners.
void map_resize(Converter& c) {
  only_attributes(c, {"coordinate_transformation_mode", "cubic_coeff_a", "exclude_outside", "extrapolation_value",
                      "mode", "nearest_mode"});
  const Value x = computed(c, 0);
  require_image(c, x);
  const std::string mode = c.attr_string("mode", "nearest"),
                    coordinates = c.attr_string("coordinate_transformation_mode", "half_pixel"),
                    nearest = c.attr_string("nearest_mode", "round_prefer_floor");
  if (c.attr_int("exclude_outside", 0)) c.refuse("its exclude_outside is set, which vkattn's interpolate does not do.");
  json keys;
  if (mode == "nearest") {
    if (coordinates != "asymmetric" || nearest != "floor")
      c.refuse("its nearest mode with " + coordinates + " coordinates and " + nearest +
               " rounding is not PyTorch's (asymmetric, floor), the one vkattn runs.");
    keys["mode"] = "nearest";
  } else if (mode == "linear") {
    if (coordinates == "align_corners") keys["align_corners"] = true;
    else if (coordinates != "half_pixel" && coordinates != "pytorch_half_pixel")
      c.refuse("its linear mode with " + coordinates + " coordinates is not one vkattn runs.");
    keys["mode"] = "bilinear";
  } else {
    c.refuse("its mode '" + mode + "' is not one vkattn runs (nearest and linear are).");
  }
  Shape out = x.shape;
  if (c.has_input(3) && c.constant_input(3, "sizes").count() > 0) {
    const auto sizes = c.constant_input(3, "sizes").integers("its sizes");
    if (sizes.size() != 4 || sizes[0] != x.shape[0] || sizes[1] != x.shape[1]) c.refuse("it resizes other dims than height and width.");
    keys["size"] = {sizes[2], sizes[3]};
    out[2] = sizes[2], out[3] = sizes[3];
  } else {
    const HostArray& scales = c.constant_input(2, "scales");
    if (scales.count() != 4 || scales.values[0] != 1 || scales.values[1] != 1) c.refuse("it resizes other dims than height and width.");
    // ONNX's align_corners divides by in x scale unrounded, F.interpolate by the whole output size.
    for (int a = 2; a < 4; ++a)
      if (coordinates == "align_corners" && double(x.shape[size_t(a)]) * scales.values[size_t(a)] != std::floor(double(x.shape[size_t(a)]) * scales.values[size_t(a)]))
        c.refuse("its align_corners coordinates with a scale that makes a fractional size are not F.interpolate's.");
    keys["scale"] = {scales.values[2], scales.values[3]};
    out[2] = int64_t(std::floor(double(x.shape[2]) * float(scales.values[2])));
    out[3] = int64_t(std::floor(double(x.shape[3]) * float(scales.values[3])));
  }
  if (coordinates == "pytorch_half_pixel" && (out[2] == 1 || out[3] == 1))
    c.refuse("its pytorch_half_pixel coordinates with an output size of 1 are not F.interpolate's.");
  c.emit("interpolate", {x.name}, keys, out, 0);
}

void map_hard_sigmoid(Converter& c) {
  only_attributes(c, {"alpha", "beta"});
  const Value& x = computed(c, 0);
  const double alpha = c.attr_float("alpha", 0.2f), beta = c.attr_float("beta", 0.5f);
  if (std::abs(alpha - 1.0 / 6) < 1e-6 && std::abs(beta - 0.5) < 1e-6) return void(c.emit("hardsigmoid", {x.name}, json::object(), x.shape, 0));
  // max(0, min(1, alpha x + beta)) as its parts.
  const std::string scaled = c.emit("mul", {x.name}, {{"scalar", alpha}}, x.shape);
  const std::string shifted = c.emit("add", {scaled}, {{"scalar", beta}}, x.shape);
  c.emit("clamp", {shifted}, {{"min", 0}, {"max", 1}}, x.shape, 0);
}

void map_pass_through(Converter& c) {
  only_attributes(c, {"seed", "ratio", "to", "saturate"});
  if (c.node().op_type() == "Dropout") {
    only_first_output(c);
    // In training mode it drops values, unless its ratio is 0.
    const double ratio = c.has_input(1) ? c.scalar_input(1, "ratio") : 0.5;
    if (c.has_input(2) && c.scalar_input(2, "training_mode") != 0 && ratio != 0)
      c.refuse("it drops values in training mode.");
  }
  if (c.node().op_type() == "Cast" && c.attr_int("to", 1) != onnx::TensorProto::FLOAT)
    c.refuse("it casts a computed value to another type than float32, which vkattn does not hold.");
  c.alias(0, c.input(0));
}

// A computed value broadcast to a larger shape: a view reading its elements again (ECA-Net's
// gate.expand_as(x)), laid out by the op that reads it. The batch itself is not broadcast.
void map_expand(Converter& c) {
  only_attributes(c, {});
  const Value& x = c.input(0);
  if (x.constant) c.refuse("it reads a constant where vkattn needs a value computed from the model's input.");
  const Shape target = broadcast_shapes(x.shape, Shape(c.constant_input(1, "shape").integers("its shape")), "Expand");
  if (target == x.shape) return c.alias(0, x);
  if (c.implicit_batch()) c.refuse("it broadcasts a computed value " + to_string(x.shape) + " to " + to_string(target) + " in a model whose batch is fixed, which vkattn does not.");
  if (target.size() != x.shape.size() || target[0] != x.shape[0])
    c.refuse("it broadcasts a computed value " + to_string(x.shape) + " to " + to_string(target) + ", across the batch or to more dimensions.");
  c.alias(0, make_view(x.name, x.index ? x.engine_shape : x.shape, expanded(index_of(x), target)));
}

// An elementwise op: on the rows of a view as well.
void simple(Converter& c, const std::string& type, json keys = json::object()) {
  const Value x = rows(c, c.input(0));
  c.emit(type, {x.name}, std::move(keys), x.shape, 0);
}

// Min and Max: elementwise over one or more inputs with broadcasting (NaN where any is NaN).
void map_min_max(Converter& c, const std::string& type) {
  only_attributes(c, {});
  const int n = c.node().input_size();
  if (n == 1) return c.alias(0, computed(c, 0));
  if (n == 2) return map_binary(c, type);
  Value acc = computed(c, 0);
  for (int i = 1; i < n; ++i) {
    const Value v = computed(c, i);
    if (!c.implicit_batch() && v.shape.size() != acc.shape.size())
      c.refuse("its inputs " + to_string(acc.shape) + " and " + to_string(v.shape) +
               " differ in rank, so broadcasting would not keep the batch first.");
    const Shape shape = broadcast_shapes(acc.shape, v.shape, c.node().op_type());
    acc = {std::nullopt, c.emit(type, {acc.name, v.name}, json::object(), shape, i + 1 == n ? std::optional<int>(0) : std::nullopt), shape};
  }
}

using Mapper = std::function<void(Converter&)>;

const std::map<std::string, Mapper>& mappers() {
  static const std::map<std::string, Mapper> table = {
      {"Conv", map_conv},
      {"ConvTranspose", map_conv_transpose},
      {"MaxPool", [](Converter& c) { map_pool(c, true); }},
      {"AveragePool", [](Converter& c) { map_pool(c, false); }},
      {"GlobalAveragePool", [](Converter& c) { map_global_pool(c, "mean"); }},
      {"GlobalMaxPool", [](Converter& c) { map_global_pool(c, "amax"); }},
      {"Gemm", map_gemm},
      {"MatMul", map_matmul},
      {"Einsum", map_einsum},
      {"Add", [](Converter& c) { map_binary(c, "add"); }},
      {"Sub", [](Converter& c) { map_binary(c, "sub"); }},
      {"Mul", [](Converter& c) { map_binary(c, "mul"); }},
      {"Div", [](Converter& c) { map_binary(c, "div"); }},
      {"Pow", [](Converter& c) { map_binary(c, "pow"); }},
      {"Relu", [](Converter& c) { only_attributes(c, {}); simple(c, "relu"); }},
      {"Neg", [](Converter& c) { only_attributes(c, {}); simple(c, "mul", {{"scalar", -1}}); }},
      {"Sqrt", [](Converter& c) { only_attributes(c, {}); simple(c, "pow", {{"scalar", 0.5}}); }},
      {"Reciprocal", [](Converter& c) { only_attributes(c, {}); simple(c, "div", {{"scalar", 1}, {"constant_first", true}}); }},
      {"Pad", map_pad},
      {"Resize", map_resize},
      {"Sigmoid", [](Converter& c) { only_attributes(c, {}); simple(c, "sigmoid"); }},
      {"Tanh", [](Converter& c) { only_attributes(c, {}); simple(c, "tanh"); }},
      {"HardSwish", [](Converter& c) { only_attributes(c, {}); simple(c, "hardswish"); }},
      {"HardSigmoid", map_hard_sigmoid},
      {"LeakyRelu", [](Converter& c) { only_attributes(c, {"alpha"}); simple(c, "leaky_relu", {{"slope", c.attr_float("alpha", 0.01f)}}); }},
      {"Elu", [](Converter& c) { only_attributes(c, {"alpha"}); simple(c, "elu", {{"alpha", c.attr_float("alpha", 1.f)}}); }},
      {"Clip", map_clip},
      {"Exp", [](Converter& c) { only_attributes(c, {}); simple(c, "exp"); }},
      {"Log", [](Converter& c) { only_attributes(c, {}); simple(c, "log"); }},
      {"Abs", [](Converter& c) { only_attributes(c, {}); simple(c, "abs"); }},
      {"Floor", [](Converter& c) { only_attributes(c, {}); simple(c, "floor"); }},
      {"Ceil", [](Converter& c) { only_attributes(c, {}); simple(c, "ceil"); }},
      {"Round", [](Converter& c) { only_attributes(c, {}); simple(c, "round"); }},
      {"Erf", [](Converter& c) { only_attributes(c, {}); simple(c, "erf"); }},
      {"Softsign", [](Converter& c) { only_attributes(c, {}); simple(c, "softsign"); }},
      // ln(e^x + 1); past x = 20 that is x in float32, so PyTorch's threshold changes nothing.
      {"Softplus", [](Converter& c) { only_attributes(c, {}); simple(c, "softplus"); }},
      {"Min", [](Converter& c) { map_min_max(c, "minimum"); }},
      {"Max", [](Converter& c) { map_min_max(c, "maximum"); }},
      {"Softmax", [](Converter& c) { map_softmax(c, "softmax"); }},
      {"LogSoftmax", [](Converter& c) { map_softmax(c, "log_softmax"); }},
      {"BatchNormalization", map_batch_norm},
      {"LayerNormalization", map_layer_norm},
      {"InstanceNormalization", map_instance_norm},
      {"ReduceMean", [](Converter& c) { map_reduce(c, "mean", 18); }},
      {"ReduceSum", [](Converter& c) { map_reduce(c, "sum", 13); }},
      {"ReduceMax", [](Converter& c) { map_reduce(c, "amax", 18); }},
      {"Reshape", map_reshape},
      {"Flatten", map_flatten},
      {"Squeeze", [](Converter& c) { map_squeeze(c, false); }},
      {"Unsqueeze", [](Converter& c) { map_squeeze(c, true); }},
      {"Transpose", map_transpose},
      {"Slice", map_slice},
      {"Split", map_split},
      {"Gather", map_gather},
      {"Concat", map_concat},
      {"Expand", map_expand},
      {"Identity", map_pass_through},
      {"Dropout", map_pass_through},
      {"Cast", map_pass_through},
  };
  return table;
}

}  // namespace

const std::set<std::string>& folded_ops();

void map_node(Converter& c) {
  const auto it = mappers().find(c.node().op_type());
  if (it == mappers().end())
    c.refuse("vkattn computes this op only on constants, and here it reads a value computed from the model's input.");
  it->second(c);
}

std::optional<EinsumTerms> einsum_terms(const std::string& equation) {
  std::string e;
  for (char ch : equation) if (ch != ' ') e += ch;
  const size_t arrow = e.find("->");
  if (arrow == std::string::npos) return std::nullopt;
  EinsumTerms t{{}, e.substr(arrow + 2)};
  for (size_t at = 0;;) {
    const size_t comma = std::min(e.find(',', at), arrow);
    t.inputs.push_back(e.substr(at, comma - at));
    if (comma == arrow) return t;
    at = comma + 1;
  }
}

const std::set<std::string>& mapped_ops() {
  static const std::set<std::string> ops = [] {
    std::set<std::string> s = folded_ops();
    for (const auto& [name, mapper] : mappers()) s.insert(name);
    return s;
  }();
  return ops;
}

}  // namespace vkattn::onnx_import
