// reshape, permute, slice and cat against references that index the input as PyTorch defines each
// op, element by element (no strides or merged dimensions, as the kernel uses): ranks 2 to 7,
// sizes that are not multiples of 4, batch 1 and 3, ShuffleNet's channel shuffle (reshape,
// permute, reshape), slices with steps, negative and clamped bounds, cat of 1 to 30 tensors along
// dims 1, 2 and the last, and NaN and infinities, which a copy must pass through unchanged. The
// copies are exact: the bound is 0.
#include <algorithm>
#include <functional>

#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

using Coords = std::vector<int64_t>;

// out[c] = in[at(c)] over every coordinate c of `out`; `at` gives the flat index into the input.
std::vector<double> gather(const Shape& out, const std::function<int64_t(const Coords&)>& at,
                           const std::vector<float>& in) {
  std::vector<double> y(element_count(out));
  Coords c(out.size(), 0);
  for (auto& v : y) {
    v = in[at(c)];
    for (size_t d = out.size(); d-- > 0;) {  // the next coordinate in C order
      if (++c[d] < out[d]) break;
      c[d] = 0;
    }
  }
  return y;
}

int64_t flat(const Shape& s, const Coords& c) {
  int64_t i = 0;
  for (size_t d = 0; d < s.size(); ++d) i = i * s[d] + c[d];
  return i;
}

int64_t wrap(int64_t dim, size_t rank) { return dim < 0 ? dim + int64_t(rank) : dim; }

// The spec's input, with NaN or infinities sprinkled in when it asks.
HostTensor input(const Spec& s, Rng& rng, const char* key = "x") {
  HostTensor x = random(rng, shape(s, key));
  sprinkle(x, special(s), int64_t(x.data.size() / 8 + 1), rng);
  return x;
}

// A case of one input; the reference finds the output's shape itself, so a wrong one fails.
Prepared one_input(HostTensor x, TensorId (*build)(Graph&, TensorId, const Spec&), const Spec& s,
                   std::function<std::vector<double>(const HostTensor&)> reference) {
  Prepared p;
  p.graph.output("y", build(p.graph, p.graph.input("x", x.shape), s));
  p.reference = [=] { return Outputs{{"y", reference(x)}}; };
  p.inputs = {{"x", std::move(x)}};
  p.bound = 0;
  return p;
}

// {"x": shape, "shape": item shape}: reshape keeps the elements in C order.
Prepared prepare_reshape(const Spec& s, Rng& rng) {
  return one_input(
      input(s, rng), [](Graph& g, TensorId x, const Spec& s) { return ops::reshape(g, x, shape(s, "shape")); }, s,
      [](const HostTensor& x) { return widen(x.data); });
}

// The input index an output coordinate of permute(x, dims) reads: out[c] = x[c'] with c'[dims[k]] = c[k].
int64_t permuted(const Shape& x, const std::vector<int64_t>& dims, const Coords& c) {
  Coords from(x.size());
  for (size_t k = 0; k < dims.size(); ++k) from[wrap(dims[k], x.size())] = c[k];
  return flat(x, from);
}

// {"x": shape, "dims": [...]}, or {"x": (B, C, H, W), "shuffle": g}: ShuffleNet's channel shuffle,
// reshape (B, g, C/g, H, W), permute (0, 2, 1, 3, 4), reshape back: output channel c holds input
// channel (c % g) * (C / g) + c / g.
Prepared prepare_permute(const Spec& s, Rng& rng) {
  if (s.contains("shuffle"))
    return one_input(
        input(s, rng),
        [](Graph& g, TensorId x, const Spec& s) {
          const Shape in = g.shape(x);
          const int64_t groups = integer(s, "shuffle");
          const TensorId split = ops::reshape(g, x, {groups, in[1] / groups, in[2], in[3]});
          return ops::reshape(g, ops::permute(g, split, {0, 2, 1, 3, 4}), {in[1], in[2], in[3]});
        },
        s,
        [groups = integer(s, "shuffle")](const HostTensor& x) {
          const int64_t per_group = x.shape[1] / groups;
          return gather(
              x.shape,
              [&](const Coords& c) {
                return flat(x.shape, {c[0], (c[1] % groups) * per_group + c[1] / groups, c[2], c[3]});
              },
              x.data);
        });
  return one_input(
      input(s, rng), [](Graph& g, TensorId x, const Spec& s) { return ops::permute(g, x, shape(s, "dims")); }, s,
      [dims = shape(s, "dims")](const HostTensor& x) {
        Shape out;
        for (int64_t d : dims) out.push_back(x.shape[wrap(d, x.shape.size())]);
        return gather(out, [&](const Coords& c) { return permuted(x.shape, dims, c); }, x.data);
      });
}

// {"x": shape, "shape": item shape, "strides": [..], "offset": o, "result": item shape}:
// out[b, c] = x[b, o + sum c_d s_d], in C order (whatever `result` reshapes it to).
Prepared prepare_as_strided(const Spec& s, Rng& rng) {
  return one_input(
      input(s, rng),
      [](Graph& g, TensorId x, const Spec& s) {
        return ops::as_strided(g, x, shape(s, "shape"), shape(s, "strides"), s.value("offset", int64_t{0}),
                               s.contains("result") ? shape(s, "result") : Shape{});
      },
      s,
      [item = shape(s, "shape"), strides = shape(s, "strides"), offset = s.value("offset", int64_t{0})](const HostTensor& x) {
        Shape out = {x.shape[0]};
        out.insert(out.end(), item.begin(), item.end());
        const int64_t per_item = element_count(x.shape) / x.shape[0];
        return gather(
            out,
            [&](const Coords& c) {
              int64_t at = c[0] * per_item + offset;
              for (size_t d = 0; d < strides.size(); ++d) at += c[d + 1] * strides[d];
              return at;
            },
            x.data);
      });
}

// {"x": shape, "c": (1, ...)}: the constant c repeated over x's batch.
Prepared prepare_expand(const Spec& s, Rng& rng) {
  Prepared p;
  HostTensor x = input(s, rng), c = random(rng, shape(s, "c"));
  sprinkle(c, special(s), 1, rng);
  p.graph.output("y", ops::expand(p.graph, p.graph.input("x", x.shape), p.graph.weight("c", c)));
  p.reference = [c, B = x.shape[0]] {
    std::vector<double> y;
    for (int64_t b = 0; b < B; ++b) y.insert(y.end(), c.data.begin(), c.data.end());
    return Outputs{{"y", y}};
  };
  p.inputs = {{"x", std::move(x)}};
  p.bound = 0;
  return p;
}

// {"x": shape, "shifts": [..], "dims": [..]}: out[c] = x[c'] with c'[d] = (c[d] - shift) mod n.
Prepared prepare_roll(const Spec& s, Rng& rng) {
  return one_input(
      input(s, rng),
      [](Graph& g, TensorId x, const Spec& s) { return ops::roll(g, x, shape(s, "shifts"), shape(s, "dims")); }, s,
      [shifts = shape(s, "shifts"), dims = shape(s, "dims")](const HostTensor& x) {
        return gather(
            x.shape,
            [&](const Coords& c) {
              Coords from = c;
              for (size_t k = 0; k < dims.size(); ++k) {
                const size_t d = wrap(dims[k], x.shape.size());
                from[d] = ((from[d] - shifts[k]) % x.shape[d] + x.shape[d]) % x.shape[d];
              }
              return flat(x.shape, from);
            },
            x.data);
      });
}

// {"x": shape, "dim": d, "start": s, "end": e (absent: to the end), "step": k}
Prepared prepare_slice(const Spec& s, Rng& rng) {
  const int64_t dim = integer(s, "dim"), start = integer(s, "start"), step = integer(s, "step");
  const int64_t end = s.contains("end") ? integer(s, "end") : INT64_MAX;
  return one_input(
      input(s, rng),
      [](Graph& g, TensorId x, const Spec& s) {
        return ops::slice(g, x, integer(s, "dim"), integer(s, "start"), s.contains("end") ? integer(s, "end") : INT64_MAX,
                          integer(s, "step"));
      },
      s,
      [=](const HostTensor& x) {
        const size_t d = wrap(dim, x.shape.size());
        // The indices of Python's list(range(n))[start:end:step], step > 0.
        const int64_t n = x.shape[d];
        auto clamp = [n](int64_t v) { return std::max<int64_t>(0, std::min(v < 0 ? v + n : v, n)); };
        const int64_t first = clamp(start), last = end == INT64_MAX ? n : clamp(end);
        Shape out = x.shape;
        out[d] = 0;
        for (int64_t i = first; i < last; i += step) ++out[d];
        return gather(
            out,
            [&](const Coords& c) {
              Coords from = c;
              from[d] = first + c[d] * step;
              return flat(x.shape, from);
            },
            x.data);
      });
}

// {"x": shape, "dim": d, "k": k}: k tensors shaped as x except along d, where tensor t has
// x[d] + t % 3 elements.
Prepared prepare_cat(const Spec& s, Rng& rng) {
  const Shape base = shape(s, "x");
  const int64_t k = integer(s, "k");
  const size_t d = wrap(integer(s, "dim"), base.size());
  Prepared p;
  std::vector<HostTensor> parts;
  std::vector<TensorId> ids;
  for (int64_t t = 0; t < k; ++t) {
    Shape sh = base;
    sh[d] += t % 3;
    parts.push_back(random(rng, sh));
    sprinkle(parts.back(), special(s), int64_t(parts.back().data.size() / 8 + 1), rng);
    ids.push_back(p.graph.input("x" + std::to_string(t), sh));
  }
  p.graph.output("y", ops::cat(p.graph, ids, integer(s, "dim")));
  p.reference = [=] {
    Shape out = base;
    out[d] = 0;
    for (const HostTensor& t : parts) out[d] += t.shape[d];
    // The output coordinate along d falls in the tensor whose run of positions holds it.
    std::vector<double> ref(element_count(out));
    Coords c(out.size(), 0);
    for (auto& v : ref) {
      int64_t t = 0, along = c[d];
      while (along >= parts[t].shape[d]) along -= parts[t++].shape[d];
      Coords from = c;
      from[d] = along;
      v = parts[t].data[flat(parts[t].shape, from)];
      for (size_t e = out.size(); e-- > 0;) {
        if (++c[e] < out[e]) break;
        c[e] = 0;
      }
    }
    return Outputs{{"y", std::move(ref)}};
  };
  for (int64_t t = 0; t < k; ++t) p.inputs.emplace_back("x" + std::to_string(t), parts[t]);
  p.bound = 0;
  return p;
}

std::vector<Spec> reshape_matrix(const MatrixOptions&) {
  std::vector<Spec> specs = {
      {{"x", {1, 1}}, {"shape", {1}}},
      {{"x", {3, 5, 7}}, {"shape", {7, 5}}},
      {{"x", {3, 6, 5, 3}}, {"shape", {-1, 3}}},
      {{"x", {1, 210}}, {"shape", {2, 3, 5, 7}}},
      {{"x", {3, 2, 3, 5, 7}}, {"shape", {30, -1}}},
      {{"x", {2, 8, 4}}, {"shape", {4, 8}}},  // whole vec4s
      {{"x", {3, 4, 5}}, {"shape", {20}}, {"special", "nan"}},
      {{"x", {3, 4, 5}}, {"shape", {2, 10}}, {"special", "inf"}}};
  return specs;
}

std::vector<Spec> permute_matrix(const MatrixOptions& o) {
  std::vector<Spec> specs = {
      {{"x", {3, 7}}, {"dims", {0, 1}}},
      {{"x", {3, 5, 7}}, {"dims", {0, 2, 1}}},
      {{"x", {1, 3, 5, 7}}, {"dims", {0, 2, 3, 1}}},  // NCHW to NHWC
      {{"x", {3, 4, 5, 6}}, {"dims", {0, 3, 1, 2}}},
      {{"x", {2, 3, 5, 7}}, {"dims", {0, -1, -2, 1}}},
      {{"x", {3, 2, 3, 5, 7}}, {"dims", {0, 4, 2, 1, 3}}},
      {{"x", {2, 2, 3, 2, 3, 2, 3}}, {"dims", {0, 6, 5, 4, 3, 2, 1}}},
      {{"x", {1, 12, 5, 7}}, {"shuffle", 3}},
      {{"x", {3, 6, 7, 7}}, {"shuffle", 2}},
      {{"x", {3, 5, 7, 2}}, {"dims", {0, 3, 2, 1}}, {"special", "nan"}},
      {{"x", {3, 5, 7, 2}}, {"dims", {0, 2, 1, 3}}, {"special", "inf"}}};
  if (!o.quick) specs.push_back({{"x", {8, 116, 28, 28}}, {"shuffle", 2}});
  return specs;
}

std::vector<Spec> as_strided_matrix(const MatrixOptions&) {
  return {// Swin's window partition of (B, 8, 12, 5) into 4 x 4 windows: (B, 6, 16, 5) in one copy.
          {{"x", {2, 8, 12, 5}}, {"shape", {2, 3, 4, 4, 5}}, {"strides", {240, 20, 60, 5, 1}}, {"result", {6, 16, 5}}},
          // q of a fused (B, N, 3, h, d) projection as (B, h, N, d): N = 7, h = 2, d = 3.
          {{"x", {3, 7, 18}}, {"shape", {2, 7, 3}}, {"strides", {3, 18, 1}}, {"offset", 6}},
          {{"x", {1, 10}}, {"shape", {4, 3}}, {"strides", {2, 0}}, {"offset", 1}},  // a repeat
          // a broadcast along the outer dimension (stride 0 there: ONNX's Expand of a column)
          {{"x", {3, 4, 1}}, {"shape", {5, 4, 1}}, {"strides", {0, 1, 1}}},
          {{"x", {2, 6}}, {"shape", {3, 2, 6}}, {"strides", {0, 0, 1}}},
          {{"x", {2, 5, 6}}, {"shape", {6, 5}}, {"strides", {1, 6}}, {"special", "nan"}}};
}

std::vector<Spec> roll_matrix(const MatrixOptions&) {
  return {{{"x", {2, 8, 12, 5}}, {"shifts", {-3, -3}}, {"dims", {1, 2}}},  // Swin's shift and back
          {{"x", {2, 8, 12, 5}}, {"shifts", {3, 3}}, {"dims", {1, 2}}},
          {{"x", {3, 7}}, {"shifts", {9}}, {"dims", {-1}}},                 // past the size
          {{"x", {1, 4, 5, 6}}, {"shifts", {1, 2, -1}}, {"dims", {1, 1, 3}}},  // a dim twice
          {{"x", {1, 4, 5}}, {"shifts", {4}}, {"dims", {1}}},               // a whole turn: a copy
          {{"x", {3, 5, 7, 6}}, {"shifts", {2}}, {"dims", {2}}, {"special", "nan"}}};
}

std::vector<Spec> slice_matrix(const MatrixOptions&) {
  return {{{"x", {3, 10}}, {"dim", 1}, {"start", 0}, {"step", 1}},
          {{"x", {3, 10}}, {"dim", -1}, {"start", -3}, {"step", 1}},
          {{"x", {2, 7, 9, 11}}, {"dim", 2}, {"start", 1}, {"end", 8}, {"step", 2}},
          {{"x", {1, 5, 13}}, {"dim", 2}, {"start", -7}, {"step", 2}},
          {{"x", {3, 5, 13}}, {"dim", 1}, {"start", -100}, {"end", 100}, {"step", 2}},  // clamped
          {{"x", {3, 6, 5, 7}}, {"dim", 1}, {"start", 3}, {"end", 4}, {"step", 1}},     // x[:, 3:4]
          {{"x", {3, 12, 5}}, {"dim", 1}, {"start", 4}, {"end", 8}, {"step", 1}},      // a chunk
          {{"x", {2, 3, 5, 7, 3}}, {"dim", 4}, {"start", 0}, {"step", 3}},
          {{"x", {3, 5, 7, 6, 4}}, {"dim", 3}, {"start", 1}, {"end", -1}, {"step", 2}},
          {{"x", {1, 4, 9}}, {"dim", 2}, {"start", 3}, {"end", 7}, {"step", 1}, {"special", "nan"}},
          {{"x", {3, 8, 6}}, {"dim", 1}, {"start", -5}, {"step", 2}, {"special", "inf"}}};
}

std::vector<Spec> cat_matrix(const MatrixOptions& o) {
  std::vector<Spec> specs;
  for (const int64_t k : {1, 2, 3, 30})
    for (const int64_t dim : {1, 2, -1}) specs.push_back({{"x", {3, 5, 7, 6}}, {"dim", dim}, {"k", k}});
  specs.push_back({{"x", {1, 3}}, {"dim", 1}, {"k", 3}});
  specs.push_back({{"x", {1, 7, 9}}, {"dim", 2}, {"k", 2}});
  specs.push_back({{"x", {3, 2, 3, 5, 7}}, {"dim", 3}, {"k", 3}});
  specs.push_back({{"x", {2, 4, 4, 4}}, {"dim", 1}, {"k", 1}});  // whole vec4s
  specs.push_back({{"x", {3, 5, 7, 6}}, {"dim", 1}, {"k", 3}, {"special", "nan"}});
  specs.push_back({{"x", {3, 5, 7, 6}}, {"dim", -1}, {"k", 3}, {"special", "inf"}});
  if (!o.quick) specs.push_back({{"x", {8, 32, 28, 28}}, {"dim", 1}, {"k", 30}});  // a DenseNet block
  return specs;
}

}  // namespace

void register_layout_check(CheckRegistry& r) {
  r.add({"reshape", reshape_matrix, prepare_reshape});
  r.add({"permute", permute_matrix, prepare_permute});
  r.add({"roll", roll_matrix, prepare_roll});
  r.add({"as_strided", as_strided_matrix, prepare_as_strided});
  r.add({"expand", [](const MatrixOptions&) -> std::vector<Spec> {
           return {{{"x", {3, 5}}, {"c", {1, 1, 768}}}, {{"x", {1, 2}}, {"c", {1, 3, 5}}},
                   {{"x", {2, 2}}, {"c", {1, 7}}, {"special", "nan"}}};
         },
         prepare_expand});
  r.add({"slice", slice_matrix, prepare_slice});
  r.add({"cat", cat_matrix, prepare_cat});
}

}  // namespace vkattn::conformance
