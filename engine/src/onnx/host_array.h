// The values an ONNX graph knows when it is loaded (initializers, Constant nodes, the shapes of
// its inputs, and what it computes from them: the Shape -> Gather -> Concat -> Reshape arithmetic
// exporters write), held as doubles, which keep float32 weights and integers to 2^53 exactly.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "vkattn/tensor.h"

namespace vkattn::onnx_import {

struct HostArray {
  enum class Kind { Float, Int, Bool };
  Kind kind = Kind::Float;
  Shape shape;  // {} for a scalar
  std::vector<double> values;

  int64_t count() const { return int64_t(values.size()); }
  // The values as integers (for shapes, axes, indices); an Error if one is not whole.
  std::vector<int64_t> integers(const std::string& what) const;
  HostTensor to_tensor() const;  // float32
};

// A checked TensorProto's values (onnx_read has made sure its data fits its dims).
HostArray from_tensor(const onnx::TensorProto& t);

HostArray scalar(double v, HostArray::Kind kind = HostArray::Kind::Float);
HostArray vector_of(const std::vector<int64_t>& values);

// Broadcasting as numpy: the shape of a op b, or an Error naming `what`.
Shape broadcast_shapes(const Shape& a, const Shape& b, const std::string& what);
// f(a[i], b[j]) over the broadcast shape, of kind `kind`.
HostArray broadcast(const HostArray& a, const HostArray& b, HostArray::Kind kind, double (*f)(double, double),
                    const std::string& what);
// Elements of a shape (its sizes already bounded).
int64_t count_of(const Shape& shape);
// a broadcast to `shape` (which a broadcasts to), as float values.
HostArray expanded(const HostArray& a, const Shape& shape);
// The same data in a new shape (the count must match).
HostArray reshaped(HostArray a, Shape shape);
// a with its axes in the order `perm`.
HostArray transposed(const HostArray& a, const std::vector<int64_t>& perm);
// The elements at `indices` along `axis` (numpy.take; negative indices count from the end).
HostArray take(const HostArray& a, const HostArray& indices, int64_t axis, const std::string& what);
// a[start:end:step] along each of `axes` (steps may be negative; bounds clamp as ONNX's Slice).
HostArray sliced(const HostArray& a, const std::vector<int64_t>& starts, const std::vector<int64_t>& ends,
                 const std::vector<int64_t>& axes, const std::vector<int64_t>& steps);
// Several arrays joined along `axis`.
HostArray concatenated(const std::vector<HostArray>& parts, int64_t axis, const std::string& what);

// The product of sizes >= 0, saturating at 2^62 (a model's shapes are untrusted numbers).
int64_t saturated_product(const Shape& shape);

// Elements beyond which a computed constant is refused (a model cannot make the loader allocate
// without bound: ConstantOfShape, Expand, Range).
constexpr int64_t kMaxFoldedElements = int64_t{1} << 24;
void require_foldable(const Shape& shape, const std::string& what);

}  // namespace vkattn::onnx_import
