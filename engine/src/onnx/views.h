// ONNX values whose batch is not their first dimension: torch writes nn.MultiheadAttention with
// tokens sequence-first, (N, B, C), and its heads merged with the batch, (B * heads, N, d). Such a
// value is a view of an engine value (batch first): for each of its elements, in row-major
// order, the engine value's element it is (an index array at the probe batch). Layout ops on
// views only move indices; an op reading one gets an engine value laid out for it here.
#pragma once
#include <functional>
#include <optional>
#include <string>

#include "onnx/converter.h"

namespace vkattn::onnx_import {

// The index array of any computed value: a view's own, or the identity over a plain value.
HostArray index_of(const Converter::Value& v);
// A view of engine value `base` (of `base_shape`) through `index` (shaped as the ONNX value);
// a plain value when the view is the base itself.
Converter::Value make_view(const std::string& base, const Shape& base_shape, HostArray index);

// The engine shape of an ONNX shape under a split, and each ONNX element's place in it.
Shape split_shape(const Shape& onnx, const BatchSplit& s, int64_t batch);
HostArray split_index(const Shape& onnx, const BatchSplit& s, int64_t batch);

// The value as an engine value laid out batch first (copied with one as_strided node when it
// is not already so): its name, engine shape and split. Refused when the batch is not one factor
// of one dimension, or the batch items are not laid out alike.
struct Laid {
  std::string name;
  Shape engine_shape;
  BatchSplit split;
};
Laid lay_out(Converter& c, const Converter::Value& v);

// For an op on each row (the last dimension) alone: the value laid out with the batch first and
// its rows whole, as an engine value; the node's output 0 is then read back through the same
// layout (Converter::read_back).
Converter::Value rows(Converter& c, const Converter::Value& v);
// A constant that broadcasts against an ONNX value of `onnx_shape` laid out by `split`, as the
// engine constant of one batch item in that layout (it must not differ between batch items).
HostArray laid_constant(Converter& c, const HostArray& k, const Shape& onnx_shape, const BatchSplit& split, int64_t batch);
// Where ONNX dimension `dim` of a value laid out by `split` is in the engine layout; the split
// dimension itself (it holds the batch) is refused, naming `what`.
int64_t laid_axis(Converter& c, int64_t dim, const BatchSplit& split, const std::string& what);
// The split lay_out would lay the value out by (BatchSplit{} for a plain value), or none where it
// refuses; nothing is emitted.
std::optional<BatchSplit> layout_split(const Converter::Value& v);
// Whether lay_out can copy the value in one node.
bool layable(const Converter::Value& v);
// A view of part of view v (`select` picks from an index array: a slice, a gather): of v's own
// base where one copy can lay that out, else of v laid out first.
Converter::Value sub_view(Converter& c, const Converter::Value& v, const std::function<HostArray(const HostArray&)>& select);
// The value as a plain engine value (its ONNX shape, the batch first), or a refusal.
Converter::Value plain(Converter& c, const Converter::Value& v);

}  // namespace vkattn::onnx_import
