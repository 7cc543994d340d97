// The nodes evaluated on the host when the model loads: those whose inputs are all known then
// (initializers, Constant nodes, shapes, and what is computed from them), as ONNX defines each.
#include <cmath>
#include <functional>
#include <map>
#include <numeric>

#include "onnx/converter.h"
#include "vkattn/error.h"

namespace vkattn::onnx_import {
namespace {

using Kind = HostArray::Kind;

// An axis of a rank-`rank` array, negative ones counted from the end.
int64_t axis_of(Converter& c, int64_t axis, size_t rank, const std::string& what) {
  const int64_t r = int64_t(rank);
  if (axis < -r || axis >= r) c.refuse("its " + what + " " + std::to_string(axis) + " is outside a rank-" + std::to_string(r) + " value.");
  return axis < 0 ? axis + r : axis;
}

// The Constant node's value, from whichever attribute holds it.
HostArray constant_value(Converter& c) {
  const auto& attrs = c.node().attribute();
  if (attrs.size() != 1) c.refuse("it must have exactly one value attribute.");
  const auto& a = attrs[0];
  if (a.name() == "value" && a.has_t()) return from_tensor(a.t());
  if (a.name() == "value_float") return scalar(a.f());
  if (a.name() == "value_int") return scalar(double(a.i()), Kind::Int);
  if (a.name() == "value_floats") return {Kind::Float, {a.floats_size()}, {a.floats().begin(), a.floats().end()}};
  if (a.name() == "value_ints") {
    HostArray out{Kind::Int, {a.ints_size()}, {}};
    for (int64_t v : a.ints()) out.values.push_back(double(v));
    return out;
  }
  c.refuse("its value is a " + a.name() + ", which vkattn does not read.");
}

// Axes from the attribute (before `input_from`) or from input 1 (from that opset on).
std::vector<int64_t> axes_of(Converter& c, int64_t input_from, const std::vector<int64_t>& fallback = {}) {
  if (c.opset() >= input_from) return c.has_input(1) ? c.constant_input(1, "axes").integers("axes") : fallback;
  return c.attr_ints("axes", fallback);
}

// The shape a Reshape makes of `from` with `target` (0 copies a size unless allowzero, one -1).
Shape reshape_target(Converter& c, const Shape& from, std::vector<int64_t> target) {
  const bool allowzero = c.attr_int("allowzero", 0) != 0;
  int64_t known = 1, unknown = -1;
  const int64_t count = std::accumulate(from.begin(), from.end(), int64_t{1}, std::multiplies<>());
  for (size_t d = 0; d < target.size(); ++d) {
    if (target[d] == 0 && !allowzero) {
      if (d >= from.size()) c.refuse("its shape copies dimension " + std::to_string(d) + ", which the input lacks.");
      target[d] = from[d];
    }
    if (target[d] == -1) {
      if (unknown >= 0) c.refuse("its shape has more than one -1.");
      unknown = int64_t(d);
    } else if (target[d] < 0 || target[d] > (int64_t{1} << 31)) {
      c.refuse("its shape has a size of " + std::to_string(target[d]) + ".");
    } else {
      known = target[d] && known > (int64_t{1} << 62) / target[d] ? int64_t{1} << 62 : known * target[d];  // saturates, no overflow
    }
  }
  if (unknown >= 0) {
    if (known == 0 || count % known != 0) c.refuse("its shape " + to_string(Shape(target)) + " does not fit " + std::to_string(count) + " elements.");
    target[size_t(unknown)] = count / known;
  }
  if (saturated_product(Shape(target)) != count)
    c.refuse("its shape " + to_string(Shape(target)) + " does not hold the input's " + std::to_string(count) + " elements.");
  return Shape(target);
}

HostArray cast(HostArray a, int64_t to) {
  using T = onnx::TensorProto;
  if (to == T::FLOAT || to == T::DOUBLE || to == T::FLOAT16 || to == T::BFLOAT16) {
    if (to == T::FLOAT)
      for (double& v : a.values) v = double(float(v));
    a.kind = Kind::Float;
  } else if (to == T::BOOL) {
    for (double& v : a.values) v = v != 0;
    a.kind = Kind::Bool;
  } else {
    for (double& v : a.values) v = std::trunc(v);  // float to integer truncates toward zero
    a.kind = Kind::Int;
  }
  return a;
}

double onnx_div(double a, double b) { return a / b; }


// numpy.matmul: 1-D operands as a row (a) or a column (b), dropped from the result; the dims
// before the last two broadcast.
HostArray matmul(Converter& c, HostArray a, HostArray b) {
  const bool row = a.shape.size() == 1, column = b.shape.size() == 1;
  if (a.shape.empty() || b.shape.empty()) c.refuse("an operand is a scalar.");
  if (row) a.shape.insert(a.shape.begin(), 1);
  if (column) b.shape.push_back(1);
  const int64_t M = a.shape[a.shape.size() - 2], K = a.shape.back(), N = b.shape.back();
  if (b.shape[b.shape.size() - 2] != K) c.refuse("its operands " + to_string(a.shape) + " and " + to_string(b.shape) + " do not multiply.");
  const Shape batch = broadcast_shapes(Shape(a.shape.begin(), a.shape.end() - 2), Shape(b.shape.begin(), b.shape.end() - 2), "MatMul");
  Shape out = batch;
  out.insert(out.end(), {M, N});
  require_foldable(out, "MatMul");
  if (double(std::accumulate(out.begin(), out.end(), int64_t{1}, std::multiplies<>())) * double(K) > 1e10)
    c.refuse("it multiplies constants too large to compute when the model loads.");
  // Each operand's matrices broadcast over the batch dims: index them through a broadcast of
  // their matrix numbers.
  auto numbers = [&](const HostArray& x) {
    Shape dims(x.shape.begin(), x.shape.end() - 2);
    HostArray n{HostArray::Kind::Int, dims, std::vector<double>(size_t(std::accumulate(dims.begin(), dims.end(), int64_t{1}, std::multiplies<>())))};
    std::iota(n.values.begin(), n.values.end(), 0.0);
    HostArray zeros{HostArray::Kind::Int, batch, std::vector<double>(size_t(std::accumulate(batch.begin(), batch.end(), int64_t{1}, std::multiplies<>())), 0)};
    return broadcast(n, zeros, HostArray::Kind::Int, [](double v, double) { return v; }, "MatMul").values;
  };
  const auto na = numbers(a), nb = numbers(b);
  HostArray y{HostArray::Kind::Float, out, std::vector<double>(na.size() * size_t(M * N))};
  for (size_t i = 0; i < na.size(); ++i) {
    const double* A = &a.values[size_t(na[i]) * size_t(M * K)];
    const double* B = &b.values[size_t(nb[i]) * size_t(K * N)];
    double* Y = &y.values[i * size_t(M * N)];
    for (int64_t m = 0; m < M; ++m)
      for (int64_t k = 0; k < K; ++k)
        for (int64_t n = 0; n < N; ++n) Y[m * N + n] += A[m * K + k] * B[k * N + n];
  }
  if (column) y.shape.pop_back();
  if (row) y.shape.erase(y.shape.end() - (column ? 1 : 2));
  return y;
}

using Fold = std::function<HostArray(Converter&)>;

HostArray binary(Converter& c, Kind kind, double (*f)(double, double)) {
  const HostArray &a = *c.input(0).constant, &b = *c.input(1).constant;
  return broadcast(a, b, kind, f, c.node().op_type());
}

HostArray unary(Converter& c, double (*f)(double)) {
  HostArray a = *c.input(0).constant;
  for (double& v : a.values) v = f(v);
  return a;
}

// Min and Max over every input (one or more), NaN where any is NaN (numpy's minimum, maximum).
HostArray extremum(Converter& c, bool max) {
  static constexpr auto lower = [](double a, double b) { return std::isnan(a) || std::isnan(b) ? a + b : std::min(a, b); };
  static constexpr auto upper = [](double a, double b) { return std::isnan(a) || std::isnan(b) ? a + b : std::max(a, b); };
  HostArray acc = *c.input(0).constant;
  for (int i = 1; i < c.node().input_size(); ++i)
    acc = broadcast(acc, *c.input(i).constant, acc.kind, max ? +upper : +lower, c.node().op_type());
  return acc;
}

Kind arithmetic_kind(Converter& c) { return c.input(0).constant->kind == Kind::Float ? Kind::Float : Kind::Int; }

const std::map<std::string, Fold>& folds() {
  static const std::map<std::string, Fold> table = {
      {"Constant", constant_value},
      {"Identity", [](Converter& c) { return *c.input(0).constant; }},
      {"Add", [](Converter& c) { return binary(c, arithmetic_kind(c), [](double a, double b) { return a + b; }); }},
      {"Sub", [](Converter& c) { return binary(c, arithmetic_kind(c), [](double a, double b) { return a - b; }); }},
      {"Mul", [](Converter& c) { return binary(c, arithmetic_kind(c), [](double a, double b) { return a * b; }); }},
      {"Div", [](Converter& c) {
         if (arithmetic_kind(c) == Kind::Float) return binary(c, Kind::Float, onnx_div);
         for (double v : c.input(1).constant->values)
           if (v == 0) c.refuse("it divides integers by 0.");
         return binary(c, Kind::Int, [](double a, double b) { return std::trunc(a / b); });
       }},
      {"Pow", [](Converter& c) { return binary(c, c.input(0).constant->kind, [](double a, double b) { return std::pow(a, b); }); }},
      {"Mod", [](Converter& c) {
         const bool fmod = c.attr_int("fmod", 0) != 0;
         for (double v : c.input(1).constant->values)
           if (v == 0 && !fmod) c.refuse("it takes an integer modulo 0.");
         // fmod keeps the dividend's sign (C's fmod); otherwise the divisor's (Python's %).
         return fmod ? binary(c, arithmetic_kind(c), [](double a, double b) { return std::fmod(a, b); })
                     : binary(c, arithmetic_kind(c), [](double a, double b) { return a - std::floor(a / b) * b; });
       }},
      {"ScatterND", [](Converter& c) {
         if (c.attr_string("reduction", "none") != "none") c.refuse("its reduction is not 'none'.");
         HostArray out = *c.input(0).constant;
         const HostArray &idx = *c.input(1).constant, &updates = *c.input(2).constant;
         const auto at = idx.integers("its indices");
         if (idx.shape.empty() || idx.shape.back() < 1 || idx.shape.back() > int64_t(out.shape.size()))
           c.refuse("its indices do not address the data.");
         const int64_t k = idx.shape.back(), rows = idx.count() / k;
         // Each index tuple picks a slice of the data's trailing dims, filled from updates in order.
         int64_t slice = 1;
         for (size_t d = size_t(k); d < out.shape.size(); ++d) slice *= out.shape[d];
         if (updates.count() != rows * slice) c.refuse("its updates do not fit its indices.");
         for (int64_t r = 0; r < rows; ++r) {
           int64_t flat = 0;
           for (int64_t j = 0; j < k; ++j) {
             int64_t i = at[size_t(r * k + j)];
             const int64_t n = out.shape[size_t(j)];
             if (i < -n || i >= n) c.refuse("an index is outside the data.");
             flat = flat * n + (i < 0 ? i + n : i);
           }
           for (int64_t e = 0; e < slice; ++e) out.values[size_t(flat * slice + e)] = updates.values[size_t(r * slice + e)];
         }
         return out;
       }},
      {"Min", [](Converter& c) { return extremum(c, false); }},
      {"Max", [](Converter& c) { return extremum(c, true); }},
      {"Equal", [](Converter& c) { return binary(c, Kind::Bool, [](double a, double b) { return double(a == b); }); }},
      {"Less", [](Converter& c) { return binary(c, Kind::Bool, [](double a, double b) { return double(a < b); }); }},
      {"Greater", [](Converter& c) { return binary(c, Kind::Bool, [](double a, double b) { return double(a > b); }); }},
      {"And", [](Converter& c) { return binary(c, Kind::Bool, [](double a, double b) { return double(a && b); }); }},
      {"Or", [](Converter& c) { return binary(c, Kind::Bool, [](double a, double b) { return double(a || b); }); }},
      {"Not", [](Converter& c) { return unary(c, [](double a) { return double(a == 0); }); }},
      {"Neg", [](Converter& c) { return unary(c, [](double a) { return -a; }); }},
      {"Reciprocal", [](Converter& c) { return unary(c, [](double a) { return 1 / a; }); }},
      {"Exp", [](Converter& c) { return unary(c, [](double a) { return std::exp(a); }); }},
      {"MatMul", [](Converter& c) { return matmul(c, *c.input(0).constant, *c.input(1).constant); }},
      {"Abs", [](Converter& c) { return unary(c, [](double a) { return std::fabs(a); }); }},
      {"Sqrt", [](Converter& c) { return unary(c, [](double a) { return double(std::sqrt(float(a))); }); }},
      {"Floor", [](Converter& c) { return unary(c, [](double a) { return std::floor(a); }); }},
      {"Ceil", [](Converter& c) { return unary(c, [](double a) { return std::ceil(a); }); }},
      {"Cast", [](Converter& c) { return cast(*c.input(0).constant, c.attr_int("to", 1)); }},
      {"Where", [](Converter& c) {
         const HostArray &cond = *c.input(0).constant, &a = *c.input(1).constant, &b = *c.input(2).constant;
         const Shape shape = broadcast_shapes(broadcast_shapes(cond.shape, a.shape, "Where"), b.shape, "Where");
         const HostArray k = expanded(cond, shape), x = expanded(a, shape), y = expanded(b, shape);
         HostArray out = x;
         for (size_t i = 0; i < out.values.size(); ++i) out.values[i] = k.values[i] != 0 ? x.values[i] : y.values[i];
         return out;
       }},
      {"Shape", [](Converter& c) {
         const auto& v = c.input(0);
         const Shape s = v.constant ? v.constant->shape : v.shape;
         const int64_t r = int64_t(s.size());
         int64_t start = c.attr_int("start", 0), end = c.attr_int("end", r);
         start = std::clamp<int64_t>(start < 0 ? start + r : start, 0, r);
         end = std::clamp<int64_t>(end < 0 ? end + r : end, 0, r);
         return vector_of(std::vector<int64_t>(s.begin() + start, s.begin() + std::max(start, end)));
       }},
      {"Size", [](Converter& c) {
         const auto& v = c.input(0);
         const Shape s = v.constant ? v.constant->shape : v.shape;
         return scalar(double(std::accumulate(s.begin(), s.end(), int64_t{1}, std::multiplies<>())), Kind::Int);
       }},
      {"Gather", [](Converter& c) {
         const HostArray& a = *c.input(0).constant;
         return take(a, *c.input(1).constant, axis_of(c, c.attr_int("axis", 0), a.shape.size(), "axis"), "Gather");
       }},
      {"Unsqueeze", [](Converter& c) {
         HostArray a = *c.input(0).constant;
         const auto axes = axes_of(c, 13);
         Shape shape = a.shape;
         std::vector<int64_t> sorted;
         for (int64_t ax : axes) sorted.push_back(axis_of(c, ax, a.shape.size() + axes.size(), "axis"));
         std::sort(sorted.begin(), sorted.end());
         for (int64_t ax : sorted) shape.insert(shape.begin() + ax, 1);
         return reshaped(std::move(a), shape);
       }},
      {"Squeeze", [](Converter& c) {
         HostArray a = *c.input(0).constant;
         const auto axes = axes_of(c, 13);
         Shape shape;
         for (size_t d = 0; d < a.shape.size(); ++d) {
           bool drop = axes.empty() && a.shape[d] == 1;
           for (int64_t ax : axes) drop |= axis_of(c, ax, a.shape.size(), "axis") == int64_t(d);
           if (drop && a.shape[d] != 1) c.refuse("it squeezes a dimension of size " + std::to_string(a.shape[d]) + ".");
           if (!drop) shape.push_back(a.shape[d]);
         }
         return reshaped(std::move(a), shape);
       }},
      {"Concat", [](Converter& c) {
         std::vector<HostArray> parts;
         for (int i = 0; i < c.node().input_size(); ++i)
           if (c.has_input(i)) parts.push_back(*c.input(i).constant);
         if (parts.empty()) c.refuse("it joins nothing.");
         return concatenated(parts, axis_of(c, c.attr_int("axis", 0), parts.at(0).shape.size(), "axis"), "Concat");
       }},
      {"Reshape", [](Converter& c) {
         HostArray a = *c.input(0).constant;
         const Shape shape = reshape_target(c, a.shape, c.input(1).constant->integers("shape"));
         return reshaped(std::move(a), shape);
       }},
      {"Flatten", [](Converter& c) {
         HostArray a = *c.input(0).constant;
         const int64_t axis = axis_of(c, c.attr_int("axis", 1), a.shape.size() + 1, "axis");
         const int64_t outer = std::accumulate(a.shape.begin(), a.shape.begin() + axis, int64_t{1}, std::multiplies<>());
         return reshaped(std::move(a), {outer, outer ? a.count() / outer : 0});
       }},
      {"Transpose", [](Converter& c) {
         const HostArray& a = *c.input(0).constant;
         std::vector<int64_t> perm(a.shape.size());
         std::iota(perm.rbegin(), perm.rend(), 0);
         perm = c.attr_ints("perm", perm);
         std::vector<int64_t> sorted = perm;
         std::sort(sorted.begin(), sorted.end());
         for (size_t d = 0; d < sorted.size(); ++d)
           if (sorted.size() != a.shape.size() || sorted[d] != int64_t(d)) c.refuse("its perm is not an order of the dimensions.");
         return transposed(a, perm);
       }},
      {"Slice", [](Converter& c) {
         const HostArray& a = *c.input(0).constant;
         const auto starts = c.input(1).constant->integers("starts"), ends = c.input(2).constant->integers("ends");
         std::vector<int64_t> axes(starts.size()), steps(starts.size(), 1);
         std::iota(axes.begin(), axes.end(), 0);
         if (c.has_input(3)) axes = c.input(3).constant->integers("axes");
         if (c.has_input(4)) steps = c.input(4).constant->integers("steps");
         if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
           c.refuse("its starts, ends, axes and steps differ in length.");
         for (auto& ax : axes) ax = axis_of(c, ax, a.shape.size(), "axis");
         for (int64_t s : steps)
           if (s == 0) c.refuse("a step is 0.");
         return sliced(a, starts, ends, axes, steps);
       }},
      {"ConstantOfShape", [](Converter& c) {
         const Shape shape(c.input(0).constant->integers("shape"));
         require_foldable(shape, "ConstantOfShape");
         if (c.has_attr("value") && !c.attr("value")->has_t()) c.refuse("its value is not a tensor.");
         HostArray value = c.has_attr("value") ? from_tensor(c.attr("value")->t()) : scalar(0);
         if (value.count() != 1) c.refuse("its value must be one element.");
         return HostArray{value.kind, shape, std::vector<double>(size_t(std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>())), value.values[0])};
       }},
      {"Expand", [](Converter& c) {
         const HostArray& a = *c.input(0).constant;
         return expanded(a, broadcast_shapes(a.shape, Shape(c.input(1).constant->integers("shape")), "Expand"));
       }},
      {"Range", [](Converter& c) {
         const double start = c.scalar_input(0, "start"), limit = c.scalar_input(1, "limit"),
                      delta = c.scalar_input(2, "delta");
         if (delta == 0) c.refuse("its delta is 0.");
         const double n = std::max(0.0, std::ceil((limit - start) / delta));
         require_foldable({int64_t(std::min(n, 1e12))}, "Range");
         HostArray out{c.input(0).constant->kind, {int64_t(n)}, {}};
         for (int64_t i = 0; i < int64_t(n); ++i) out.values.push_back(start + double(i) * delta);
         return out;
       }},
  };
  return table;
}

}  // namespace

bool fold_node(Converter& c) {
  const std::string& op = c.node().op_type();
  const auto it = folds().find(op);
  if (it == folds().end()) return false;
  // Shape and Size read only the shape, which an engine value has too.
  if (op != "Shape" && op != "Size" && !c.all_inputs_constant()) return false;
  if (op == "Identity" && !c.input(0).constant) return false;
  c.set_constant(0, it->second(c));
  return true;
}

const std::set<std::string>& folded_ops() {
  static const std::set<std::string> ops = [] {
    std::set<std::string> s;
    for (const auto& [name, fold] : folds()) s.insert(name);
    return s;
  }();
  return ops;
}

}  // namespace vkattn::onnx_import
