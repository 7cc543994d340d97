#include "onnx/host_array.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <numeric>

#include "half_float.h"
#include "vkattn/error.h"

namespace vkattn::onnx_import {
namespace {

using onnx::TensorProto;

template <typename T>
T read_le(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));  // x86 and ARM hosts are little-endian, as ONNX's raw data
  return v;
}

// Element i of a tensor's raw data.
double raw_value(const std::string& raw, int32_t type, size_t i) {
  switch (type) {
    case TensorProto::FLOAT: return read_le<float>(raw.data() + 4 * i);
    case TensorProto::DOUBLE: return read_le<double>(raw.data() + 8 * i);
    case TensorProto::FLOAT16: return half_to_float(read_le<uint16_t>(raw.data() + 2 * i));
    case TensorProto::BFLOAT16: return std::bit_cast<float>(uint32_t(read_le<uint16_t>(raw.data() + 2 * i)) << 16);
    case TensorProto::INT64: return double(read_le<int64_t>(raw.data() + 8 * i));
    case TensorProto::UINT64: return double(read_le<uint64_t>(raw.data() + 8 * i));
    case TensorProto::INT32: return read_le<int32_t>(raw.data() + 4 * i);
    case TensorProto::UINT32: return read_le<uint32_t>(raw.data() + 4 * i);
    case TensorProto::INT16: return read_le<int16_t>(raw.data() + 2 * i);
    case TensorProto::UINT16: return read_le<uint16_t>(raw.data() + 2 * i);
    case TensorProto::INT8: return read_le<int8_t>(raw.data() + i);
    default: return read_le<uint8_t>(raw.data() + i);  // UINT8, BOOL
  }
}

// Element i of a tensor's typed field (onnx.proto says which field each type uses).
double typed_value(const TensorProto& t, size_t i) {
  const int n = int(i);
  switch (t.data_type()) {
    case TensorProto::FLOAT: return t.float_data(n);
    case TensorProto::DOUBLE: return t.double_data(n);
    case TensorProto::INT64: return double(t.int64_data(n));
    case TensorProto::UINT32: case TensorProto::UINT64: return double(t.uint64_data(n));
    case TensorProto::FLOAT16: return half_to_float(uint16_t(t.int32_data(n)));
    case TensorProto::BFLOAT16: return std::bit_cast<float>(uint32_t(uint16_t(t.int32_data(n))) << 16);
    default: return t.int32_data(n);
  }
}

// Row-major strides of a shape.
std::vector<int64_t> strides_of(const Shape& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;) s[d - 1] = s[d] * shape[d];
  return s;
}


}  // namespace

int64_t count_of(const Shape& shape) {
  return std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>());
}

std::vector<int64_t> HostArray::integers(const std::string& what) const {
  std::vector<int64_t> out;
  for (double v : values) {
    if (!std::isfinite(v) || v != std::floor(v)) throw Error(what + " holds " + std::to_string(v) + ", not a whole number.");
    out.push_back(v >= 9.2e18 ? INT64_MAX : v <= -9.2e18 ? INT64_MIN : int64_t(v));
  }
  return out;
}

HostTensor HostArray::to_tensor() const {
  HostTensor t{shape, std::vector<float>(values.size())};
  for (size_t i = 0; i < values.size(); ++i) t.data[i] = float(values[i]);
  return t;
}

HostArray from_tensor(const TensorProto& t) {
  HostArray a;
  const int32_t type = t.data_type();
  a.kind = type == TensorProto::FLOAT || type == TensorProto::DOUBLE || type == TensorProto::FLOAT16 ||
                   type == TensorProto::BFLOAT16
               ? HostArray::Kind::Float
               : type == TensorProto::BOOL ? HostArray::Kind::Bool : HostArray::Kind::Int;
  a.shape.assign(t.dims().begin(), t.dims().end());
  const size_t count = size_t(count_of(a.shape));
  a.values.resize(count);
  for (size_t i = 0; i < count; ++i) a.values[i] = t.has_raw_data() ? raw_value(t.raw_data(), type, i) : typed_value(t, i);
  if (a.kind == HostArray::Kind::Bool)
    for (double& v : a.values) v = v != 0;
  return a;
}

HostArray scalar(double v, HostArray::Kind kind) { return {kind, {}, {v}}; }

HostArray vector_of(const std::vector<int64_t>& values) {
  HostArray a{HostArray::Kind::Int, {int64_t(values.size())}, {}};
  for (int64_t v : values) a.values.push_back(double(v));
  return a;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const std::string& what) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t d = 0; d < rank; ++d) {
    const int64_t x = d + a.size() >= rank ? a[d + a.size() - rank] : 1, y = d + b.size() >= rank ? b[d + b.size() - rank] : 1;
    if (x != y && x != 1 && y != 1)
      throw Error(what + ": shapes " + to_string(a) + " and " + to_string(b) + " do not broadcast.");
    out[d] = x == 1 ? y : x;
  }
  return out;
}

HostArray broadcast(const HostArray& a, const HostArray& b, HostArray::Kind kind, double (*f)(double, double),
                    const std::string& what) {
  HostArray out{kind, broadcast_shapes(a.shape, b.shape, what), {}};
  require_foldable(out.shape, what);
  const size_t rank = out.shape.size();
  // Strides of a and b over the output's dims, 0 where they broadcast.
  auto strides_in = [&](const Shape& s) {
    std::vector<int64_t> own = strides_of(s), st(rank, 0);
    for (size_t d = 0; d < s.size(); ++d)
      if (s[d] != 1) st[rank - s.size() + d] = own[d];
    return st;
  };
  const auto sa = strides_in(a.shape), sb = strides_in(b.shape), so = strides_of(out.shape);
  const int64_t count = count_of(out.shape);
  out.values.resize(size_t(count));
  for (int64_t i = 0; i < count; ++i) {
    int64_t ia = 0, ib = 0;
    for (size_t d = 0; d < rank; ++d) {
      const int64_t k = i / so[d] % out.shape[d];
      ia += k * sa[d], ib += k * sb[d];
    }
    out.values[size_t(i)] = f(a.values[size_t(ia)], b.values[size_t(ib)]);
  }
  return out;
}

HostArray expanded(const HostArray& a, const Shape& shape) {
  require_foldable(shape, "a broadcast");
  const HostArray zeros{a.kind, shape, std::vector<double>(size_t(count_of(shape)), 0)};
  return broadcast(a, zeros, a.kind, [](double x, double) { return x; }, "a broadcast");
}

HostArray reshaped(HostArray a, Shape shape) {
  a.shape = std::move(shape);
  return a;
}

HostArray transposed(const HostArray& a, const std::vector<int64_t>& perm) {
  HostArray out{a.kind, Shape(perm.size()), std::vector<double>(a.values.size())};
  for (size_t d = 0; d < perm.size(); ++d) out.shape[d] = a.shape[size_t(perm[d])];
  const auto si = strides_of(a.shape), so = strides_of(out.shape);
  for (int64_t i = 0; i < a.count(); ++i) {
    int64_t from = 0;
    for (size_t d = 0; d < perm.size(); ++d) from += (i / so[d] % out.shape[d]) * si[size_t(perm[d])];
    out.values[size_t(i)] = a.values[size_t(from)];
  }
  return out;
}

HostArray take(const HostArray& a, const HostArray& indices, int64_t axis, const std::string& what) {
  const int64_t n = a.shape[size_t(axis)];
  std::vector<int64_t> at = indices.integers(what + "'s indices");
  for (int64_t& i : at) {
    if (i < -n || i >= n) throw Error(what + ": index " + std::to_string(i) + " is outside a dimension of " + std::to_string(n) + ".");
    if (i < 0) i += n;
  }
  Shape shape(a.shape.begin(), a.shape.begin() + axis);
  shape.insert(shape.end(), indices.shape.begin(), indices.shape.end());
  shape.insert(shape.end(), a.shape.begin() + axis + 1, a.shape.end());
  const int64_t outer = count_of(Shape(a.shape.begin(), a.shape.begin() + axis)),
                inner = count_of(Shape(a.shape.begin() + axis + 1, a.shape.end()));
  HostArray out{a.kind, shape, {}};
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i : at)
      for (int64_t k = 0; k < inner; ++k) out.values.push_back(a.values[size_t((o * n + i) * inner + k)]);
  return out;
}

HostArray sliced(const HostArray& a, const std::vector<int64_t>& starts, const std::vector<int64_t>& ends,
                 const std::vector<int64_t>& axes, const std::vector<int64_t>& steps) {
  const size_t rank = a.shape.size();
  std::vector<int64_t> first(rank, 0), step(rank, 1);
  Shape shape = a.shape;
  for (size_t k = 0; k < axes.size(); ++k) {
    const size_t d = size_t(axes[k]);
    const int64_t n = a.shape[d], s = steps[k];
    // ONNX's Slice: negative bounds count from the end, then clamp to [0, n] (or [-1, n - 1] going back).
    auto clamp = [&](int64_t v) {
      if (v < 0) v = v < -n ? -1 : v + n;  // -1 only matters going backwards
      return s > 0 ? std::clamp<int64_t>(v, 0, n) : std::clamp<int64_t>(v, -1, n - 1);
    };
    const int64_t b = clamp(starts[k]), e = clamp(ends[k]);
    first[d] = b, step[d] = s;
    // Elements from b towards e by |s|, without overflow for any step.
    const int64_t span = s > 0 ? e - b : b - e, magnitude = s == INT64_MIN ? INT64_MAX : (s > 0 ? s : -s);
    shape[d] = span > 0 ? 1 + (span - 1) / magnitude : 0;
  }
  HostArray out{a.kind, shape, std::vector<double>(size_t(count_of(shape)))};
  const auto si = strides_of(a.shape), so = strides_of(shape);
  for (int64_t i = 0; i < out.count(); ++i) {
    int64_t from = 0;
    for (size_t d = 0; d < rank; ++d) from += (first[d] + (i / so[d] % shape[d]) * step[d]) * si[d];
    out.values[size_t(i)] = a.values[size_t(from)];
  }
  return out;
}

HostArray concatenated(const std::vector<HostArray>& parts, int64_t axis, const std::string& what) {
  HostArray out = parts.at(0);
  const size_t d = size_t(axis);
  int64_t total = 0;
  for (const HostArray& p : parts) {
    Shape a = p.shape, b = out.shape;
    if (a.size() != b.size()) throw Error(what + ": its inputs differ in rank.");
    a[d] = b[d] = 0;
    if (a != b) throw Error(what + ": shapes " + to_string(p.shape) + " and " + to_string(out.shape) + " differ off the axis.");
    total += p.shape[d];
  }
  out.shape[d] = total;
  const int64_t outer = count_of(Shape(out.shape.begin(), out.shape.begin() + axis)),
                inner = count_of(Shape(out.shape.begin() + axis + 1, out.shape.end()));
  out.values.clear();
  for (int64_t o = 0; o < outer; ++o)
    for (const HostArray& p : parts) {
      const int64_t run = p.shape[d] * inner;
      out.values.insert(out.values.end(), p.values.begin() + o * run, p.values.begin() + (o + 1) * run);
    }
  return out;
}

int64_t saturated_product(const Shape& shape) {
  constexpr int64_t most = int64_t{1} << 62;
  int64_t p = 1;
  for (int64_t d : shape) p = d > 0 && p > most / d ? most : p * std::max<int64_t>(d, 0);
  return p;
}

void require_foldable(const Shape& shape, const std::string& what) {
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0 || (d > 0 && count > kMaxFoldedElements / d))
      throw Error(what + " makes a constant of shape " + to_string(shape) + ", larger than vkattn computes at load.");
    count *= d;
  }
}

}  // namespace vkattn::onnx_import
