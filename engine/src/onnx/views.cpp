#include "onnx/views.h"

#include <numeric>

#include "vkattn/error.h"

namespace vkattn::onnx_import {
namespace {

using Value = Converter::Value;

bool is_identity(const HostArray& index) {
  for (size_t i = 0; i < index.values.size(); ++i)
    if (index.values[i] != double(i)) return false;
  return true;
}

// Where the batch of each element (its engine element / item size) sits: one dimension whose
// coordinate x gives batch (x / inner) % P; nothing when no such dimension holds it.
std::optional<BatchSplit> find_split(const HostArray& index, const Shape& engine_shape) {
  const int64_t P = engine_shape[0], item = count_of(engine_shape) / P;
  const Shape& s = index.shape;
  std::vector<int64_t> strides(s.size(), 1);
  for (size_t d = s.size(); d-- > 1;) strides[d - 1] = strides[d] * s[d];
  for (size_t d = 0; d < s.size(); ++d) {
    // Along dimension d from the first element: the first coordinate where the batch changes.
    int64_t inner = 0;
    for (int64_t x = 1; x < s[d] && !inner; ++x)
      if (int64_t(index.values[size_t(x * strides[d])]) / item != 0) inner = x;
    if (!inner || s[d] % (inner * P)) continue;
    const BatchSplit split{d, s[d] / (inner * P), inner};
    bool holds = true;
    for (int64_t e = 0; e < index.count() && holds; ++e) {
      const int64_t x = e / strides[d] % s[d];
      holds = int64_t(index.values[size_t(e)]) / item == x / inner % P;
    }
    if (holds) return split;
  }
  if (P == 1) return BatchSplit{};  // one item: anything is batch-local
  return std::nullopt;
}

// Strides that give `offsets` (row-major over `shape`) as offset + sum coordinate x stride, each
// dimension split where its offsets step unevenly (a dimension that merged two of the base's);
// the factored shape and strides, or nothing.
std::optional<std::pair<Shape, std::vector<int64_t>>> strided(const std::vector<int64_t>& offsets, const Shape& shape) {
  Shape factors;
  std::vector<int64_t> strides;
  std::vector<int64_t> step(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;) step[d - 1] = step[d] * shape[d];
  for (size_t d = 0; d < shape.size(); ++d) {
    // Offsets along dimension d from element 0, then split into runs of equal steps.
    std::vector<int64_t> along;
    for (int64_t x = 0; x < shape[d]; ++x) along.push_back(offsets[size_t(x * step[d])] - offsets[0]);
    std::vector<std::pair<int64_t, int64_t>> parts;  // (size, stride), outer first
    int64_t n = shape[d];
    std::function<bool(int64_t, int64_t, std::vector<std::pair<int64_t, int64_t>>&)> factor =
        [&](int64_t size, int64_t unit, std::vector<std::pair<int64_t, int64_t>>& out) {
          // along[k * unit] for k < size must be k * stride, or split into (size / m, m).
          if (size == 1) return true;
          const int64_t stride = along[size_t(unit)];
          int64_t m = size;
          for (int64_t k = 1; k < size; ++k)
            if (along[size_t(k * unit)] != k * stride) {
              m = k;
              break;
            }
          if (m == size) {
            out.emplace_back(size, stride);
            return true;
          }
          if (size % m) return false;
          std::vector<std::pair<int64_t, int64_t>> outer;
          if (!factor(size / m, unit * m, outer)) return false;
          out.insert(out.end(), outer.begin(), outer.end());
          out.emplace_back(m, stride);
          return true;
        };
    if (!factor(n, 1, parts)) return std::nullopt;
    if (parts.empty()) parts.emplace_back(1, 0);
    for (const auto& [size, stride] : parts) {
      if (stride < 0) return std::nullopt;
      factors.push_back(size);
      strides.push_back(stride);
    }
  }
  // Every element, not only the axes through element 0.
  std::vector<int64_t> fstep(factors.size(), 1);
  for (size_t d = factors.size(); d-- > 1;) fstep[d - 1] = fstep[d] * factors[d];
  for (size_t e = 0; e < offsets.size(); ++e) {
    int64_t at = offsets[0];
    for (size_t d = 0; d < factors.size(); ++d) at += int64_t(e) / fstep[d] % factors[d] * strides[d];
    if (at != offsets[e]) return std::nullopt;
  }
  return std::pair{factors, strides};
}

}  // namespace

HostArray index_of(const Value& v) {
  if (v.index) return *v.index;
  HostArray a{HostArray::Kind::Int, v.shape, std::vector<double>(size_t(count_of(v.shape)))};
  std::iota(a.values.begin(), a.values.end(), 0.0);
  return a;
}

Value make_view(const std::string& base, const Shape& base_shape, HostArray index) {
  if (index.shape == base_shape && is_identity(index)) return {std::nullopt, base, base_shape};
  Value v{std::nullopt, base, index.shape};
  v.engine_shape = base_shape;
  v.index = std::make_shared<const HostArray>(std::move(index));
  return v;
}

Shape split_shape(const Shape& onnx, const BatchSplit& s, int64_t batch) {
  Shape out = {batch};
  for (size_t d = 0; d < onnx.size(); ++d) {
    if (d != s.dim) {
      out.push_back(onnx[d]);
      continue;
    }
    if (s.outer > 1) out.push_back(s.outer);
    if (s.inner > 1) out.push_back(s.inner);
  }
  return out;
}

HostArray split_index(const Shape& onnx, const BatchSplit& s, int64_t batch) {
  const Shape engine = split_shape(onnx, s, batch);
  std::vector<int64_t> step(engine.size(), 1);
  for (size_t d = engine.size(); d-- > 1;) step[d - 1] = step[d] * engine[d];
  HostArray out{HostArray::Kind::Int, onnx, std::vector<double>(size_t(count_of(onnx)))};
  std::vector<int64_t> x(onnx.size(), 0);
  for (size_t e = 0; e < out.values.size(); ++e) {
    int64_t at = 0;
    size_t k = 1;
    for (size_t d = 0; d < onnx.size(); ++d) {
      if (d != s.dim) {
        at += x[d] * step[k++];
        continue;
      }
      at += x[d] / s.inner % batch * step[0];
      if (s.outer > 1) at += x[d] / (s.inner * batch) * step[k++];
      if (s.inner > 1) at += x[d] % s.inner * step[k++];
    }
    out.values[e] = double(at);
    for (size_t d = onnx.size(); d-- > 0;)  // the next element's coordinates
      if (++x[d] < onnx[d]) break;
      else x[d] = 0;
  }
  return out;
}

namespace {

// What lay_out copies: the split, the laid-out shape, and the item's offsets in the base, or why not.
struct Plan {
  BatchSplit split;
  Shape shape;
  std::vector<int64_t> offsets;
  std::string problem;
};

Plan plan_layout(const Value& v) {
  Plan p;
  const HostArray& index = *v.index;
  const auto split = find_split(index, v.engine_shape);
  if (!split) {
    p.problem = "whose elements mix the batch items in a way vkattn cannot lay out with the batch first";
    return p;
  }
  const int64_t P = v.engine_shape[0], base_item = count_of(v.engine_shape) / P;
  p.split = *split;
  p.shape = split_shape(v.shape, *split, P);
  const HostArray place = split_index(v.shape, *split, P);
  std::vector<int64_t> from(size_t(index.count()));
  for (int64_t e = 0; e < index.count(); ++e) from[size_t(place.values[size_t(e)])] = int64_t(index.values[size_t(e)]);
  const int64_t item = index.count() / P;
  p.offsets.assign(from.begin(), from.begin() + item);
  for (int64_t b = 1; b < P; ++b)
    for (int64_t i = 0; i < item; ++i)
      if (from[size_t(b * item + i)] != p.offsets[size_t(i)] + b * base_item) {
        p.problem = "whose batch items are laid out differently";
        return p;
      }
  return p;
}

bool is_contiguous(const Plan& p, const Shape& base_shape) {
  const int64_t base_item = count_of(base_shape) / base_shape[0];
  if (int64_t(p.offsets.size()) != base_item) return false;
  for (size_t i = 0; i < p.offsets.size(); ++i)
    if (p.offsets[i] != int64_t(i)) return false;
  return true;
}

}  // namespace

std::optional<BatchSplit> layout_split(const Value& v) {
  if (!v.index) return BatchSplit{};
  const Plan p = plan_layout(v);
  if (!p.problem.empty()) return std::nullopt;
  return p.split;
}

bool layable(const Value& v) {
  if (!v.index) return true;
  const Plan p = plan_layout(v);
  return p.problem.empty() && (is_contiguous(p, v.engine_shape) || strided(p.offsets, Shape(p.shape.begin() + 1, p.shape.end())));
}

Laid lay_out(Converter& c, const Value& v) {
  if (!v.index) return {v.name, v.shape, BatchSplit{}};
  const Plan p = plan_layout(v);
  if (!p.problem.empty()) c.refuse("it reads a value of shape " + to_string(v.shape) + " " + p.problem + ".");
  const Shape item_shape(p.shape.begin() + 1, p.shape.end());
  if (is_contiguous(p, v.engine_shape)) {
    if (p.shape == v.engine_shape) return {v.name, p.shape, p.split};
    return {c.emit("reshape", {v.name}, {{"shape", item_shape}}, p.shape), p.shape, p.split};
  }
  const auto pattern = strided(p.offsets, item_shape);
  if (!pattern) c.refuse("it reads a value of shape " + to_string(v.shape) + " that no strided copy of its source lays out.");
  nlohmann::json keys = {{"shape", pattern->first}, {"strides", pattern->second}, {"offset", p.offsets[0]}};
  if (pattern->first != item_shape) keys["result"] = item_shape;
  return {c.emit("as_strided", {v.name}, keys, p.shape), p.shape, p.split};
}

Value sub_view(Converter& c, const Value& v, const std::function<HostArray(const HostArray&)>& select) {
  Value out = make_view(v.name, v.engine_shape, select(*v.index));
  if (!out.index || layable(out)) return out;
  // Laid out first, then selected from that layout (a slice of a window reverse).
  const Laid laid = lay_out(c, v);
  return make_view(laid.name, laid.engine_shape, select(split_index(v.shape, laid.split, laid.engine_shape[0])));
}

// For an op on each row (the last dimension) alone: value v laid out with the batch first and
// its rows whole, as an engine value; the node's output 0 is then read back through the same
// layout (Converter::emit).
Value rows(Converter& c, const Value& v) {
  if (v.constant) c.refuse("it reads a constant where vkattn needs a value computed from the model's input.");
  if (!v.index) return v;
  const Laid laid = lay_out(c, v);
  if (laid.split.dim + 1 == v.shape.size()) c.refuse("its rows hold several batch items, which vkattn keeps apart.");
  c.read_back(v.shape, laid.split);
  return {std::nullopt, laid.name, laid.engine_shape};
}

HostArray laid_constant(Converter& c, const HostArray& k, const Shape& onnx_shape, const BatchSplit& split, int64_t batch) {
  const HostArray full = expanded(k, broadcast_shapes(k.shape, onnx_shape, c.node().op_type()));
  if (full.shape != onnx_shape) c.refuse("its constant operand " + to_string(k.shape) + " makes the result larger than " + to_string(onnx_shape) + ".");
  const HostArray place = split_index(onnx_shape, split, batch);
  const int64_t item = full.count() / batch;
  std::vector<double> laid(full.values.size());
  for (size_t e = 0; e < laid.size(); ++e) laid[size_t(place.values[e])] = full.values[e];
  for (int64_t i = item; i < int64_t(laid.size()); ++i)
    if (laid[size_t(i)] != laid[size_t(i % item)]) c.refuse("its constant operand differs between batch items.");
  const Shape engine = split_shape(onnx_shape, split, batch);
  return {HostArray::Kind::Float, Shape(engine.begin() + 1, engine.end()), std::vector<double>(laid.begin(), laid.begin() + item)};
}

int64_t laid_axis(Converter& c, int64_t dim, const BatchSplit& split, const std::string& what) {
  if (dim == int64_t(split.dim)) c.refuse("it works along a dimension that holds the batch, which vkattn keeps apart.");
  int64_t at = 1;  // the batch first
  for (int64_t d = 0; d < dim; ++d) at += d == int64_t(split.dim) ? (split.outer > 1) + (split.inner > 1) : 1;
  (void)what;
  return at;
}

Value plain(Converter& c, const Value& v) {
  if (!v.index) return v;
  const Laid laid = lay_out(c, v);
  if (laid.split.dim != 0 || laid.split.outer != 1 || laid.split.inner != 1)
    c.refuse("it reads a value of shape " + to_string(v.shape) + " whose batch is not its first dimension (here " +
             "merged with another or moved), which this op cannot take.");
  return {std::nullopt, laid.name, v.shape};
}

}  // namespace vkattn::onnx_import
