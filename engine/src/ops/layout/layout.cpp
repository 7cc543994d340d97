// reshape, permute, slice and cat with PyTorch's semantics. Each is a copy of regions of its
// inputs into its output, every element read at an input offset plus the sum of its coordinates
// times input strides and written likewise (shaders/strided_copy.comp). Dimension 0 is the batch:
// these ops never move or cut it, and the kernel steps over it with the shared header.
#include <algorithm>
#include <numeric>

#include "ops/op.h"
#include "ops/registry.h"
#include "strided_copy.spv.h"

namespace vkattn {
namespace {

constexpr size_t kMaxRegionDims = 6;  // strided_copy.comp's push constants hold this many
constexpr int64_t kMaxItem = int64_t{1} << 31;  // elements per batch item: the kernel indexes in 32 bits
constexpr size_t kMaxCatInputs = 256;

// Strides of a C-order shape, in elements.
std::vector<int64_t> strides_of(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (size_t d = s.size(); d-- > 1;) st[d - 1] = st[d] * s[d];
  return st;
}

// The dimension `dim` of a rank-`rank` tensor, negative counting from the end, as PyTorch reads it.
int64_t wrap_dim(int64_t dim, size_t rank, const std::string& op) {
  const int64_t r = static_cast<int64_t>(rank);
  require(dim >= -r && dim < r, op + ": dimension " + std::to_string(dim) + " is out of range for a tensor of " +
                                    std::to_string(rank) + " dimensions (from " + std::to_string(-r) + " to " +
                                    std::to_string(r - 1) + ").");
  return dim < 0 ? dim + r : dim;
}

void require_item(const Shape& s, const std::string& op, const std::string& what) {
  require(s.size() >= 1 && element_count(s) >= 1, op + ": the " + what + " must have a batch dimension and elements, but it is " +
                                                      to_string(s) + ".");
  require(element_count(s) / s[0] < kMaxItem, op + ": the " + what + " " + to_string(s) + " has too many elements per batch item.");
}

// One batch item's copy: the element at coordinates c of a region of `size` goes from
// in_offset + sum c_d in_stride_d to out_offset + sum c_d out_stride_d.
struct Region {
  std::vector<int64_t> size, in_stride, out_stride;
  int64_t in_offset = 0, out_offset = 0;
};

// The same copy with dimensions of size 1 dropped and each neighbour that continues the one before
// it in both tensors merged into it: a contiguous copy becomes one dimension.
Region merged(const Region& r) {
  Region m{{}, {}, {}, r.in_offset, r.out_offset};
  for (size_t d = 0; d < r.size.size(); ++d) {
    if (r.size[d] == 1) continue;
    if (!m.size.empty() && m.in_stride.back() == r.in_stride[d] * r.size[d] &&
        m.out_stride.back() == r.out_stride[d] * r.size[d]) {
      m.size.back() *= r.size[d];
      m.in_stride.back() = r.in_stride[d];
      m.out_stride.back() = r.out_stride[d];
    } else {
      m.size.push_back(r.size[d]);
      m.in_stride.push_back(r.in_stride[d]);
      m.out_stride.push_back(r.out_stride[d]);
    }
  }
  if (m.size.empty()) m.size = m.in_stride = m.out_stride = {1};
  return m;
}

// Elements from the first that a region touches through `stride` to one past the last.
int64_t extent(const std::vector<int64_t>& size, const std::vector<int64_t>& stride) {
  int64_t e = 1;
  for (size_t d = 0; d < size.size(); ++d) e += (size[d] - 1) * stride[d];
  return e;
}

// The dispatches that copy `region` of every batch item of `in` (in_item elements each) into `out`
// (out_item each): one, or where a batch item's region is larger than one binding, one per block
// of the outermost dimension.
std::vector<Dispatch> copy_dispatches(TensorId in, TensorId out, uint64_t batches, int64_t in_item, int64_t out_item,
                                      const Region& region, const DeviceInfo& device, const std::string& op) {
  const Region r = merged(region);
  require(r.size.size() <= kMaxRegionDims, "Internal error: " + op + " copies a region of more than " +
                                               std::to_string(kMaxRegionDims) + " dimensions.");
  const auto [range, align] = bind_limits(BindAs::Vec4Storage, device);  // the stricter alignment
  const int64_t most = range > align ? int64_t((range - align) / sizeof(float)) : 0;
  std::vector<int64_t> row = r.size;  // one step of the outermost dimension
  row[0] = 1;
  const int64_t rows = r.size[0], in_row = extent(row, r.in_stride), out_row = extent(row, r.out_stride);
  if (in_row > most || out_row > most)
    throw DeviceLimitError(op + ": one row of the copy (" + std::to_string(std::max(in_row, out_row)) +
                           " floats) does not fit this device's maxStorageBufferRange (" + std::to_string(range) +
                           " bytes).");
  // Rows that fit in one binding; a stride of 0 (as_strided reading one row again) never grows it.
  auto rows_within = [&](int64_t row, int64_t stride) { return stride ? (most - row) / stride : rows; };
  const int64_t fit = std::min(rows_within(in_row, r.in_stride[0]), rows_within(out_row, r.out_stride[0])) + 1;
  const int64_t blocks = int64_t(ceil_div(rows, fit)), per_block = int64_t(ceil_div(rows, blocks));
  const int64_t rest = element_count(row);
  const bool contiguous = r.size.size() == 1 && r.in_stride[0] == 1 && r.out_stride[0] == 1;
  const bool vec4 = contiguous && blocks == 1 && rows % 4 == 0 && in_item % 4 == 0 && out_item % 4 == 0 &&
                    r.in_offset % 4 == 0 && r.out_offset % 4 == 0;
  const BindAs as = vec4 ? BindAs::Vec4Storage : BindAs::Storage;
  std::vector<Dispatch> dispatches;
  for (int64_t first = 0; first < rows; first += per_block) {
    const int64_t count = std::min(per_block, rows - first);
    std::vector<uint32_t> push = {u32(count * rest), u32(r.size.size()), u32(in_item), u32(out_item)};
    std::vector<uint32_t> size(kMaxRegionDims, 1), in_stride(kMaxRegionDims, 0), out_stride(kMaxRegionDims, 0);
    for (size_t d = 0; d < r.size.size(); ++d) {
      size[d] = u32(d == 0 ? count : r.size[d]);
      in_stride[d] = u32(r.in_stride[d]);
      out_stride[d] = u32(r.out_stride[d]);
    }
    for (const auto* v : {&size, &in_stride, &out_stride}) push.insert(push.end(), v->begin(), v->end());
    Dispatch d{"strided_copy", strided_copy_spv,
               {{in, uint64_t(r.in_offset + first * r.in_stride[0]), uint64_t(in_item),
                 uint64_t((count - 1) * r.in_stride[0] + in_row), as},
                {out, uint64_t(r.out_offset + first * r.out_stride[0]), uint64_t(out_item),
                 uint64_t((count - 1) * r.out_stride[0] + out_row), as}},
               push};
    d.batches = batches;
    // On the cpu profile a thread copies 16 elements, not 4: taking its first index apart (integer
    // divisions, a loop over the lanes on lavapipe) then costs a quarter as much an element, which
    // ran Swin-T's copies 2.6x faster. A GPU keeps neighbouring threads on neighbouring elements.
    const uint32_t per_lane = vec4 || device.profile != "cpu" ? 4 : 16;
    d.groups_per_batch = ceil_div(count * rest, per_lane * threads_per_group(strided_copy_spv));
    d.specialization = {vec4 ? 2u : contiguous ? 1u : 0u, per_lane};
    dispatches.push_back(std::move(d));
  }
  return dispatches;
}

// The base of the ops below: one input (cat: each of them) copied as a region into the output.
struct CopyOp : Op {
  Dispatch dispatch(const NodeShapes&) const override {
    throw Error("Internal error: " + name() + " runs as copy dispatches (dispatches()).");
  }
  double flops(const NodeShapes&) const override { return 0; }
};

// torch.reshape in C order: the same elements, the item shape changed (a copy).
struct Reshape final : CopyOp {
  explicit Reshape(Shape item) : item_(std::move(item)) {}
  std::string name() const override { return "reshape"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    require_item(in[0], name(), "input");
    const int64_t count = element_count(in[0]) / in[0][0];
    int64_t known = 1, unknown = 0;  // known stops at kMaxItem, past any count, so it cannot wrap
    for (int64_t s : item_) {
      require(s >= 1 || s == -1, name() + ": the shape " + to_string(item_) +
                                     " must hold sizes of at least 1 and at most one -1.");
      if (s == -1) ++unknown;
      else known = s > kMaxItem / known ? kMaxItem : known * s;
    }
    require(unknown <= 1, name() + ": the shape " + to_string(item_) + " holds more than one -1.");
    Shape out = {in[0][0]};
    for (int64_t s : item_) out.push_back(s == -1 ? count / known : s);
    require(unknown ? count % known == 0 : known == count,
            name() + ": the shape " + to_string(item_) + " does not fit the " + std::to_string(count) +
                " elements of each batch item of the input " + to_string(in[0]) + ".");
    return {out};
  }

  std::vector<Dispatch> dispatches(const NodeShapes& n, const DeviceInfo& device) const override {
    const int64_t count = element_count(n.in_shape[0]) / n.in_shape[0][0];
    return copy_dispatches(n.in[0], n.out[0], n.in_shape[0][0], count, count, {{count}, {1}, {1}}, device, name());
  }

 private:
  Shape item_;
};

// torch.permute with the batch kept first.
struct Permute final : CopyOp {
  explicit Permute(std::vector<int64_t> dims) : dims_(std::move(dims)) {}
  std::string name() const override { return "permute"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    require_item(in[0], name(), "input");
    const size_t rank = in[0].size();
    require(dims_.size() == rank, name() + ": the dims " + to_string(dims_) + " must name each of the input's " +
                                      std::to_string(rank) + " dimensions once.");
    const std::vector<int64_t> order = wrapped(rank);
    std::vector<bool> seen(rank, false);
    for (int64_t d : order) {
      require(!seen[d], name() + ": the dims " + to_string(dims_) + " name dimension " + std::to_string(d) + " twice.");
      seen[d] = true;
    }
    require(order[0] == 0, name() + ": the dims " + to_string(dims_) +
                               " move the batch; dims[0] must be 0 so that the batch stays first.");
    Shape out;
    for (int64_t d : order) out.push_back(in[0][d]);
    require(merged(region(in[0], out, order)).size.size() <= kMaxRegionDims,
            name() + ": the dims " + to_string(dims_) + " reorder the input " + to_string(in[0]) + " into more than " +
                std::to_string(kMaxRegionDims) + " separate strided dimensions, more than the kernel takes.");
    return {out};
  }

  std::vector<Dispatch> dispatches(const NodeShapes& n, const DeviceInfo& device) const override {
    const Shape &x = n.in_shape[0], &y = n.out_shape[0];
    const int64_t count = element_count(x) / x[0];
    return copy_dispatches(n.in[0], n.out[0], x[0], count, count, region(x, y, wrapped(x.size())), device, name());
  }

 private:
  std::vector<int64_t> wrapped(size_t rank) const {
    std::vector<int64_t> order;
    for (int64_t d : dims_) order.push_back(wrap_dim(d, rank, name()));
    return order;
  }
  // Output coordinate k walks input dimension order[k].
  static Region region(const Shape& x, const Shape& y, const std::vector<int64_t>& order) {
    const auto in_stride = strides_of(x), out_stride = strides_of(y);
    Region r;
    for (size_t k = 1; k < y.size(); ++k) {
      r.size.push_back(y[k]);
      r.in_stride.push_back(in_stride[order[k]]);
      r.out_stride.push_back(out_stride[k]);
    }
    return r;
  }
  std::vector<int64_t> dims_;
};

// torch.as_strided within each batch item: out[b, c] = x[b, offset + sum_d c_d strides_d], the
// item read as a flat array, then given the item shape `result` if one is set (the same elements
// in C order: the copy is contiguous, so that costs nothing). Any composition of reshapes,
// permutes and slices that keeps the batch first is one such copy (the exporter writes Swin's
// window partition and a head split out of a fused projection so); reads stay inside the item.
struct AsStrided final : CopyOp {
  AsStrided(Shape shape, std::vector<int64_t> strides, int64_t offset, Shape result)
      : shape_(std::move(shape)), strides_(std::move(strides)), offset_(offset), result_(std::move(result)) {}
  std::string name() const override { return "as_strided"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    require_item(in[0], name(), "input");
    require(!shape_.empty() && shape_.size() == strides_.size(),
            name() + ": it needs a shape and as many strides, but it is given " + to_string(shape_) + " and " +
                to_string(strides_) + ".");
    const int64_t item = element_count(in[0]) / in[0][0];
    int64_t count = 1;
    for (size_t d = 0; d < shape_.size(); ++d) {
      require(shape_[d] >= 1 && shape_[d] <= kMaxItem && strides_[d] >= 0 && strides_[d] < kMaxItem,
              name() + ": the shape " + to_string(shape_) + " and strides " + to_string(strides_) +
                  " must hold sizes of at least 1 and strides of at least 0.");
      count *= shape_[d];
      require(count < kMaxItem, name() + ": the shape " + to_string(shape_) + " is too large.");
    }
    require(offset_ >= 0 && offset_ + extent(shape_, strides_) <= item, name() + ": the shape " + to_string(shape_) + ", strides " + to_string(strides_) +
                                           " and offset " + std::to_string(offset_) + " read outside the " +
                                           std::to_string(item) + " elements of each batch item of " + to_string(in[0]) + ".");
    Shape out = {in[0][0]};
    const Shape& made = result_.empty() ? shape_ : result_;
    out.insert(out.end(), made.begin(), made.end());
    int64_t held = 1;  // stops past kMaxItem, so it cannot wrap
    for (int64_t d : made) {
      require(d >= 1, name() + ": the result shape " + to_string(result_) + " must hold sizes of at least 1.");
      held = d > kMaxItem / held ? kMaxItem : held * d;
    }
    require(held == count, name() + ": the result shape " + to_string(result_) +
                                                      " does not hold the " + std::to_string(count) +
                                                      " elements of the shape " + to_string(shape_) + ".");
    return {out};
  }

  std::vector<Dispatch> dispatches(const NodeShapes& n, const DeviceInfo& device) const override {
    const Shape &x = n.in_shape[0], &y = n.out_shape[0];
    const Region r{shape_, strides_, strides_of(shape_), offset_, 0};
    const int64_t in_item = element_count(x) / x[0], out_item = element_count(y) / y[0];
    require(merged(r).size.size() <= kMaxRegionDims, name() + ": the strides " + to_string(strides_) + " walk more than " +
                                                         std::to_string(kMaxRegionDims) +
                                                         " separate dimensions, more than the kernel takes.");
    return copy_dispatches(n.in[0], n.out[0], x[0], in_item, out_item, r, device, name());
  }

 private:
  Shape shape_;
  std::vector<int64_t> strides_;
  int64_t offset_;
  Shape result_;
};

// A constant (1, ...) repeated over the batch of another value: torch's c.expand(B, ...), which a
// ViT's class token takes before it is joined to the tokens. Inputs: the value, the constant.
struct Expand final : CopyOp {
  std::string name() const override { return "expand"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    require_item(in[0], name(), "value whose batch it takes");
    require(!in[1].empty() && in[1][0] == 1 && element_count(in[1]) >= 1 && element_count(in[1]) < kMaxItem,
            name() + ": the constant must be (1, ...), one batch item to repeat, but it is " + to_string(in[1]) + ".");
    Shape out = in[1];
    out[0] = in[0][0];
    return {out};
  }

  std::vector<Dispatch> dispatches(const NodeShapes& n, const DeviceInfo& device) const override {
    const int64_t count = element_count(n.in_shape[1]);
    // Batch stride 0 on the input side: every item copies the same elements.
    return copy_dispatches(n.in[1], n.out[0], n.out_shape[0][0], 0, count, {{count}, {1}, {1}}, device, name());
  }
};

// torch.roll along dimensions after the batch: element i of a rolled dimension of size n goes to
// (i + shift) mod n. Each rolled dimension splits the copy in two, so 2^k regions for k of them.
struct Roll final : CopyOp {
  Roll(std::vector<int64_t> shifts, std::vector<int64_t> dims) : shifts_(std::move(shifts)), dims_(std::move(dims)) {}
  std::string name() const override { return "roll"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    require_item(in[0], name(), "input");
    require(!dims_.empty() && shifts_.size() == dims_.size() && dims_.size() <= 8,
            name() + ": it takes 1 to 8 dims and a shift for each, but it is given " + std::to_string(dims_.size()) +
                " dims and " + std::to_string(shifts_.size()) + " shifts.");
    for (int64_t d : dims_)
      require(wrap_dim(d, in[0].size(), name()) >= 1, name() + ": dimension 0 is the batch, which roll does not move.");
    return {in[0]};
  }

  std::vector<Dispatch> dispatches(const NodeShapes& n, const DeviceInfo& device) const override {
    const Shape& x = n.in_shape[0];
    const auto stride = strides_of(x);
    std::vector<int64_t> shift(x.size(), 0);  // per dimension, in [0, size)
    for (size_t k = 0; k < dims_.size(); ++k) {
      const size_t d = wrap_dim(dims_[k], x.size(), name());
      shift[d] = ((shift[d] + shifts_[k]) % x[d] + x[d]) % x[d];
    }
    std::vector<size_t> rolled;
    for (size_t d = 1; d < x.size(); ++d)
      if (shift[d]) rolled.push_back(d);
    const int64_t count = element_count(x) / x[0];
    std::vector<Dispatch> all;
    for (uint32_t part = 0; part < (1u << rolled.size()); ++part) {
      Region r;
      for (size_t d = 1; d < x.size(); ++d) {
        r.size.push_back(x[d]);
        r.in_stride.push_back(stride[d]);
        r.out_stride.push_back(stride[d]);
      }
      for (size_t k = 0; k < rolled.size(); ++k) {
        const size_t d = rolled[k];
        const int64_t s = shift[d];
        // Part bit 0: input [0, n - s) to output [s, n); bit 1: input [n - s, n) to output [0, s).
        const bool wrapped_part = (part >> k) & 1;
        r.size[d - 1] = wrapped_part ? s : x[d] - s;
        r.in_offset += (wrapped_part ? x[d] - s : 0) * stride[d];
        r.out_offset += (wrapped_part ? 0 : s) * stride[d];
      }
      auto p = copy_dispatches(n.in[0], n.out[0], x[0], count, count, r, device, name());
      std::move(p.begin(), p.end(), std::back_inserter(all));
    }
    return all;
  }

 private:
  std::vector<int64_t> shifts_, dims_;
};

// x[..., start:end:step, ...] along one dimension after the batch, bounds clamped as Python's.
struct Slice final : CopyOp {
  Slice(int64_t dim, int64_t start, int64_t end, int64_t step) : dim_(dim), start_(start), end_(end), step_(step) {}
  std::string name() const override { return "slice"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    require_item(in[0], name(), "input");
    const int64_t d = wrap_dim(dim_, in[0].size(), name());
    require(d >= 1, name() + ": dimension 0 is the batch, which a slice does not cut; slice dimension 1 or later.");
    require(step_ >= 1, name() + ": the step must be at least 1, but it is " + std::to_string(step_) + ".");
    const int64_t count = bounds(in[0][d]).second;
    require(count >= 1, name() + ": the slice " + std::to_string(start_) + ":" +
                            (end_ == INT64_MAX ? std::string() : std::to_string(end_)) + ":" + std::to_string(step_) +
                            " of dimension " + std::to_string(d) + " (size " + std::to_string(in[0][d]) +
                            ") is empty.");
    Shape out = in[0];
    out[d] = count;
    return {out};
  }

  std::vector<Dispatch> dispatches(const NodeShapes& n, const DeviceInfo& device) const override {
    const Shape &x = n.in_shape[0], &y = n.out_shape[0];
    const size_t d = wrap_dim(dim_, x.size(), name());
    const auto in_stride = strides_of(x), out_stride = strides_of(y);
    Region r;
    for (size_t k = 1; k < y.size(); ++k) {
      r.size.push_back(y[k]);
      r.in_stride.push_back(in_stride[k] * (k == d ? step_ : 1));
      r.out_stride.push_back(out_stride[k]);
    }
    r.in_offset = bounds(x[d]).first * in_stride[d];
    return copy_dispatches(n.in[0], n.out[0], x[0], element_count(x) / x[0], element_count(y) / y[0], r, device,
                           name());
  }

 private:
  // The first index and the number of elements taken from a dimension of `size`.
  std::pair<int64_t, int64_t> bounds(int64_t size) const {
    auto clamp = [size](int64_t v) { return v < 0 ? (v < -size ? 0 : v + size) : std::min(v, size); };
    const int64_t first = clamp(start_), last = clamp(end_);
    return {first, last > first ? (last - first - 1) / step_ + 1 : 0};
  }
  int64_t dim_, start_, end_, step_;
};

// torch.cat along a dimension after the batch: each input copied into its window of the output, one
// dispatch each (a push header binds at most 7 buffers).
struct Cat final : CopyOp {
  explicit Cat(int64_t dim) : dim_(dim) {}
  std::string name() const override { return "cat"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    require(!in.empty() && in.size() <= kMaxCatInputs, name() + ": it joins 1 to " + std::to_string(kMaxCatInputs) +
                                                         " tensors, but it is given " + std::to_string(in.size()) + ".");
    require_item(in[0], name(), "first tensor");
    const int64_t d = wrap_dim(dim_, in[0].size(), name());
    require(d >= 1, name() + ": dimension 0 is the batch, which cat does not join along; use dimension 1 or later.");
    Shape out = in[0];
    out[d] = 0;
    for (size_t t = 0; t < in.size(); ++t) {
      bool fits = in[t].size() == in[0].size();
      for (size_t k = 0; fits && k < in[t].size(); ++k) fits = int64_t(k) == d || in[t][k] == in[0][k];
      require(fits, name() + ": tensor " + std::to_string(t + 1) + " " + to_string(in[t]) +
                        " must match the first tensor " + to_string(in[0]) + " in every dimension but " +
                        std::to_string(d) + ".");
      out[d] += in[t][d];
    }
    require_item(out, name(), "result");
    return {out};
  }

  std::vector<Dispatch> dispatches(const NodeShapes& n, const DeviceInfo& device) const override {
    const Shape& y = n.out_shape[0];
    const size_t d = wrap_dim(dim_, y.size(), name());
    const auto out_stride = strides_of(y);
    const int64_t out_item = element_count(y) / y[0];
    std::vector<Dispatch> all;
    int64_t at = 0;  // where this input's window starts along d
    for (size_t t = 0; t < n.in.size(); ++t) {
      const Shape& x = n.in_shape[t];
      const auto in_stride = strides_of(x);
      Region r;
      for (size_t k = 1; k < x.size(); ++k) {
        r.size.push_back(x[k]);
        r.in_stride.push_back(in_stride[k]);
        r.out_stride.push_back(out_stride[k]);
      }
      r.out_offset = at * out_stride[d];
      at += x[d];
      auto part = copy_dispatches(n.in[t], n.out[0], x[0], element_count(x) / x[0], out_item, r, device, name());
      std::move(part.begin(), part.end(), std::back_inserter(all));
    }
    return all;
  }

 private:
  int64_t dim_;
};

}  // namespace

TensorId ops::reshape(Graph& g, TensorId x, Shape item_shape) {
  return add(g, std::make_shared<Reshape>(std::move(item_shape)), {x})[0];
}

TensorId ops::permute(Graph& g, TensorId x, std::vector<int64_t> dims) {
  return add(g, std::make_shared<Permute>(std::move(dims)), {x})[0];
}

TensorId ops::as_strided(Graph& g, TensorId x, Shape shape, std::vector<int64_t> strides, int64_t offset,
                         Shape result) {
  return add(g, std::make_shared<AsStrided>(std::move(shape), std::move(strides), offset, std::move(result)), {x})[0];
}

TensorId ops::expand(Graph& g, TensorId like, TensorId constant) {
  return add(g, std::make_shared<Expand>(), {like, constant})[0];
}

TensorId ops::roll(Graph& g, TensorId x, std::vector<int64_t> shifts, std::vector<int64_t> dims) {
  return add(g, std::make_shared<Roll>(std::move(shifts), std::move(dims)), {x})[0];
}

TensorId ops::slice(Graph& g, TensorId x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  return add(g, std::make_shared<Slice>(dim, start, end, step), {x})[0];
}

TensorId ops::cat(Graph& g, const std::vector<TensorId>& tensors, int64_t dim) {
  return add(g, std::make_shared<Cat>(dim), tensors)[0];
}

// Dims count the batch as 0; a negative dim counts from the end, as in PyTorch.
// {"type": "reshape", "shape": [d1, ...]}: the item shape without the batch, at most one -1.
// {"type": "permute", "dims": [0, ...]}: every dimension once, dims[0] = 0 (transpose is one too).
// {"type": "as_strided", "shape": [..], "strides": [..], "offset": o, "result": [..]}: per batch
//   item, torch.as_strided on the item as a flat array (shape and strides without the batch), then
//   reshaped to `result` if given.
// {"type": "roll", "shifts": [..], "dims": [..]}: torch.roll along dims >= 1.
// {"type": "expand", "inputs": [v], "constant": name}: the file's tensor `name` (1, ...) repeated
//   over v's batch.
// {"type": "slice", "dim": d, "start": s, "end": e, "step": k}: x[..., s:e:k, ...] along d >= 1;
//   start defaults to 0, end to the size, step to 1; bounds clamp as Python's.
// {"type": "cat", "dim": d, "inputs": [1 to 256 values]}: torch.cat along d >= 1.
void register_layout(Registry& r) {
  r.add("reshape", LayerType{{"shape"}, false, [](const LayerSpec& spec) -> AddLayer {
                               const Shape shape = spec.integers("shape");
                               return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) {
                                 return ops::reshape(g, in[0], shape);
                               };
                             }});
  r.add("permute", LayerType{{"dims"}, false, [](const LayerSpec& spec) -> AddLayer {
                               const std::vector<int64_t> dims = spec.integers("dims");
                               return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) {
                                 return ops::permute(g, in[0], dims);
                               };
                             }});
  r.add("as_strided", LayerType{{"shape", "strides", "offset", "result"}, false, [](const LayerSpec& spec) -> AddLayer {
                                  const Shape shape = spec.integers("shape");
                                  const std::vector<int64_t> strides = spec.integers("strides");
                                  const int64_t offset = spec.signed_integer("offset", 0);
                                  const Shape result = spec.has("result") ? spec.integers("result") : Shape{};
                                  return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) {
                                    return ops::as_strided(g, in[0], shape, strides, offset, result);
                                  };
                                }});
  r.add("expand", LayerType{{"constant"}, false, [](const LayerSpec& spec) -> AddLayer {
                              const std::string name = spec.text("constant", "");
                              const auto it = spec.file().tensors.find(name);
                              require(it != spec.file().tensors.end(), "the file holds no tensor called '" + name + "'.");
                              const HostTensor constant = it->second;
                              return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) {
                                return ops::expand(g, in[0], g.weight(name, constant));
                              };
                            }});
  r.add("roll", LayerType{{"shifts", "dims"}, false, [](const LayerSpec& spec) -> AddLayer {
                            const std::vector<int64_t> shifts = spec.integers("shifts"), dims = spec.integers("dims");
                            return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) {
                              return ops::roll(g, in[0], shifts, dims);
                            };
                          }});
  r.add("slice", LayerType{{"dim", "start", "end", "step"}, false, [](const LayerSpec& spec) -> AddLayer {
                             require(spec.has("dim"), "it needs a \"dim\": the dimension to slice.");
                             const int64_t dim = spec.signed_integer("dim", 0), start = spec.signed_integer("start", 0),
                                           end = spec.signed_integer("end", INT64_MAX),
                                           step = spec.signed_integer("step", 1);
                             return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) {
                               return ops::slice(g, in[0], dim, start, end, step);
                             };
                           }});
  LayerType cat{{"dim"}, false, [](const LayerSpec& spec) -> AddLayer {
                  require(spec.has("dim"), "it needs a \"dim\": the dimension to join along.");
                  const int64_t dim = spec.signed_integer("dim", 0);
                  return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) { return ops::cat(g, in, dim); };
                }};
  cat.max_inputs = kMaxCatInputs;
  r.add("cat", cat);
}

}  // namespace vkattn
