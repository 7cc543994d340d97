// Chains of ONNX nodes that exporters write for one operation, found before conversion and run
// as the engine's op: LayerNorm as ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div (and the
// affine Mul, Add), as torch.onnx writes nn.LayerNorm before opset 17; GELU as x * (1 +
// erf(x / sqrt 2)) / 2. Every value inside a chain must have no reader outside it.
#include <cmath>
#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include "onnx/converter.h"
#include "onnx/onnx_read.h"
#include "onnx/views.h"

namespace vkattn::onnx_import {
namespace {

using nlohmann::json;

struct Graph {
  const onnx::GraphProto& g;
  std::map<std::string, int> producer;
  std::map<std::string, int> readers;  // including the graph's outputs
  std::map<std::string, const onnx::TensorProto*> initializer;
  std::map<const onnx::NodeProto*, int> index;  // protobuf keeps each node in its own allocation
  // Values the loader folds to constants: computed from initializers, Constant nodes and shapes
  // (Shape, Size: known when the model is loaded) alone. In node order, which the checker has made
  // topological.
  std::set<std::string> input_free;

  explicit Graph(const onnx::GraphProto& graph) : g(graph) {
    for (const auto& t : g.initializer()) {
      initializer[t.name()] = &t;
      input_free.insert(t.name());
    }
    for (int i = 0; i < g.node_size(); ++i) {
      index[&g.node(i)] = i;
      const std::string& op = g.node(i).op_type();
      bool free = op == "Shape" || op == "Size";
      if (!free) {
        free = true;
        for (const std::string& in : g.node(i).input()) free &= in.empty() || input_free.count(in) > 0;
      }
      for (const std::string& o : g.node(i).output()) {
        producer[o] = i;
        if (free) input_free.insert(o);
      }
      for (const std::string& in : g.node(i).input()) ++readers[in];
    }
    for (const auto& o : g.output()) ++readers[o.name()];
  }
  const onnx::NodeProto* maker(const std::string& value, const char* op) const {
    const auto it = producer.find(value);
    return it != producer.end() && g.node(it->second).op_type() == op ? &g.node(it->second) : nullptr;
  }
  // The one node reading `value`, if it is of type `op` and nothing else reads the value.
  const onnx::NodeProto* only_reader(const std::string& value, const char* op, int* index = nullptr) const {
    const auto r = readers.find(value);
    if (r == readers.end() || r->second != 1) return nullptr;
    for (int i = 0; i < g.node_size(); ++i)
      for (const std::string& in : g.node(i).input())
        if (in == value) {
          if (g.node(i).op_type() != op) return nullptr;
          if (index) *index = i;
          return &g.node(i);
        }
    return nullptr;
  }
  // A scalar constant (an initializer or a Constant node's value) near `want`.
  std::optional<double> scalar(const std::string& value) const {
    const onnx::TensorProto* t = nullptr;
    if (const auto it = initializer.find(value); it != initializer.end()) t = it->second;
    else if (const auto* c = maker(value, "Constant");
             c && c->attribute_size() == 1 && c->attribute(0).name() == "value" && c->attribute(0).has_t())
      t = &c->attribute(0).t();
    if (!t || element_count_of(t->dims()) != 1) return std::nullopt;
    return from_tensor(*t).values[0];
  }
  bool near(const std::string& value, double want) const {
    const auto v = scalar(value);
    return v && std::abs(*v - want) <= 1e-6 * std::max(1.0, std::abs(want));
  }
  int index_of(const onnx::NodeProto* n) const { return index.at(n); }
};

// Whether `a` broadcasts to `to` (aligned from the right) without growing it.
bool broadcastable(const Shape& a, const Shape& to) {
  if (a.size() > to.size()) return false;
  for (size_t k = 0; k < a.size(); ++k)
    if (a[a.size() - 1 - k] != 1 && a[a.size() - 1 - k] != to[to.size() - 1 - k]) return false;
  return true;
}

// The other input of a two-input node, given one of them.
std::string other(const onnx::NodeProto& n, const std::string& one) { return n.input(0) == one ? n.input(1) : n.input(0); }

// x * (1 + erf(x / sqrt 2)) / 2, found from its Erf node.
std::optional<Pattern> gelu(const Graph& G, int erf_index) {
  const auto& erf = G.g.node(erf_index);
  const onnx::NodeProto* scale = G.maker(erf.input(0), "Div");
  std::string x;
  if (scale && G.near(scale->input(1), std::sqrt(2.0))) x = scale->input(0);
  else if ((scale = G.maker(erf.input(0), "Mul")))
    x = G.near(scale->input(1), std::sqrt(0.5)) ? scale->input(0) : G.near(scale->input(0), std::sqrt(0.5)) ? scale->input(1) : "";
  if (x.empty() || G.readers.at(erf.input(0)) != 1) return std::nullopt;
  int add_index = 0, last = 0;
  const onnx::NodeProto* add = G.only_reader(erf.output(0), "Add", &add_index);
  if (!add || !G.near(other(*add, erf.output(0)), 1.0)) return std::nullopt;
  Pattern p{0, {G.index_of(scale), erf_index, add_index}, x, nullptr};
  // Then the products with x and 1/2, in either order.
  int i1 = 0, i2 = 0;
  const onnx::NodeProto* m1 = G.only_reader(add->output(0), "Mul", &i1);
  if (!m1) return std::nullopt;
  const std::string with = other(*m1, add->output(0));
  if (with == x) {  // (x (1 + erf)) / 2
    const onnx::NodeProto* m2 = G.only_reader(m1->output(0), "Mul", &i2);
    if (!m2 || !G.near(other(*m2, m1->output(0)), 0.5)) return std::nullopt;
    last = i2;
  } else if (G.near(with, 0.5)) {  // x ((1 + erf) / 2)
    const onnx::NodeProto* m2 = G.only_reader(m1->output(0), "Mul", &i2);
    if (!m2 || other(*m2, m1->output(0)) != x) return std::nullopt;
    last = i2;
  } else if (const auto* half = G.maker(with, "Mul"); half && G.readers.at(with) == 1 &&
                                                       ((half->input(0) == x && G.near(half->input(1), 0.5)) ||
                                                        (half->input(1) == x && G.near(half->input(0), 0.5)))) {
    p.nodes.insert(G.index_of(half));  // (x / 2) (1 + erf)
    last = i1;
  } else {
    return std::nullopt;
  }
  p.nodes.insert(i1);
  p.nodes.insert(last);
  p.last = last;
  p.emit = [x](Converter& c) {
    const Converter::Value v = rows(c, c.value(x));
    c.emit("gelu", {v.name}, json::object(), v.shape, 0);
    return true;
  };
  return p;
}

// The reduced axes of a ReduceMean (attribute before opset 18), as positive numbers.
std::optional<std::vector<int64_t>> mean_axes(const onnx::NodeProto& n) {
  for (const auto& a : n.attribute())
    if (a.name() == "keepdims" && a.i() != 1) return std::nullopt;
  for (const auto& a : n.attribute())
    if (a.name() == "axes") return std::vector<int64_t>(a.ints().begin(), a.ints().end());
  return std::nullopt;
}

// (x - mean) / sqrt(var + eps) over the last axes, then * weight + bias, found from its Sqrt.
std::optional<Pattern> layer_norm(const Graph& G, int sqrt_index) {
  const auto& sqrt = G.g.node(sqrt_index);
  const onnx::NodeProto* add = G.maker(sqrt.input(0), "Add");
  if (!add || G.readers.at(sqrt.input(0)) != 1) return std::nullopt;
  const auto* var = G.maker(add->input(0), "ReduceMean");
  std::string eps_value = add->input(1);
  if (!var) {
    var = G.maker(add->input(1), "ReduceMean");
    eps_value = add->input(0);
  }
  const auto eps = G.scalar(eps_value);
  if (!var || !eps || G.readers.at(var->output(0)) != 1) return std::nullopt;
  const auto* pow = G.maker(var->input(0), "Pow");
  if (!pow || !G.near(pow->input(1), 2.0) || G.readers.at(pow->output(0)) != 1) return std::nullopt;
  const auto* sub = G.maker(pow->input(0), "Sub");
  if (!sub || G.readers.at(sub->output(0)) != 2) return std::nullopt;
  const auto* mean = G.maker(sub->input(1), "ReduceMean");
  if (!mean || mean->input(0) != sub->input(0) || G.readers.at(mean->output(0)) != 1) return std::nullopt;
  const auto a1 = mean_axes(*mean), a2 = mean_axes(*var);
  if (!a1 || !a2 || *a1 != *a2) return std::nullopt;
  int div_index = 0;
  const onnx::NodeProto* div = G.only_reader(sqrt.output(0), "Div", &div_index);
  if (!div || div->input(0) != sub->output(0) || div->input(1) != sqrt.output(0)) return std::nullopt;
  Pattern p{div_index, {G.index_of(mean), G.index_of(sub), G.index_of(pow), G.index_of(var), G.index_of(add), sqrt_index, div_index},
            sub->input(0), nullptr};
  // The affine part: a Mul by a constant and an Add of one, each folded in when it is there.
  std::string weight, bias, last = div->output(0);
  int i = 0;
  if (const auto* mul = G.only_reader(last, "Mul", &i); mul && G.initializer.count(other(*mul, last))) {
    weight = other(*mul, last);
    p.nodes.insert(i);
    p.last = i;
    last = mul->output(0);
  }
  if (const auto* plus = G.only_reader(last, "Add", &i); plus && G.initializer.count(other(*plus, last))) {
    bias = other(*plus, last);
    p.nodes.insert(i);
    p.last = i;
  }
  const std::vector<int64_t> axes = *a1;
  const std::string x = p.input;
  const double epsilon = *eps;
  p.emit = [=](Converter& c) {
    const auto& onnx = c.value(x);
    if (onnx.constant) c.refuse("its LayerNorm reads a constant.");
    // Over the last axis only, on the rows of a view as well; over more, on a plain value.
    const Converter::Value v = axes.size() == 1 ? rows(c, onnx) : plain(c, onnx);
    const int64_t rank = int64_t(v.shape.size()), k = int64_t(axes.size());
    std::vector<int64_t> sorted;
    const int64_t onnx_rank = int64_t(onnx.shape.size());
    for (int64_t a : axes) sorted.push_back((a < 0 ? a + onnx_rank : a) + rank - onnx_rank);
    std::sort(sorted.begin(), sorted.end());
    for (int64_t j = 0; j < k; ++j)
      if (sorted[size_t(j)] != rank - k + j) c.refuse("its LayerNorm's mean is over axes that are not the last ones.");
    c.engine_axis(rank - k, v.shape.size(), "axis");  // not over the batch
    const Shape normalized(v.shape.end() - k, v.shape.end());
    const std::string name = c.fresh_name();
    json keys = {{"name", name}, {"dims", k}, {"eps", epsilon}};
    for (const auto& [tensor, suffix] : {std::pair{weight, ".weight"}, std::pair{bias, ".bias"}}) {
      if (tensor.empty()) continue;
      HostArray a = *c.value(tensor).constant;
      if (broadcast_shapes(normalized, a.shape, "LayerNorm") != normalized)
        c.refuse("its LayerNorm's " + std::string(suffix + 1) + " " + to_string(a.shape) + " is not of the normalized shape.");
      c.add_weight(name + suffix, expanded(a, normalized));
    }
    if (weight.empty() && !bias.empty()) {  // the engine's layer takes a bias only with a weight
      c.add_weight(name + ".weight", expanded(scalar(1), normalized));
    }
    c.emit("layer_norm", {v.name}, keys, v.shape, 0);
    return true;
  };
  return p;
}

// `v` as another value times or divided by a factor computed from constants alone (a scale such
// as d^-0.5, which torch writes as Pow of two constants): the operand, the factor's value name,
// and whether it divides. Whether the factor is one number is seen when the chain is emitted.
struct Scale {
  std::string operand, factor;
  bool divide = false;
};
std::optional<Scale> scaled(const Graph& G, const std::string& v) {
  if (const auto* m = G.maker(v, "Mul"); m && G.readers.at(v) == 1) {
    if (G.input_free.count(m->input(1))) return Scale{m->input(0), m->input(1), false};
    if (G.input_free.count(m->input(0))) return Scale{m->input(1), m->input(0), false};
  }
  if (const auto* d = G.maker(v, "Div"); d && G.readers.at(v) == 1)
    if (G.input_free.count(d->input(1))) return Scale{d->input(0), d->input(1), true};
  return std::nullopt;
}

// Which product of attention an Einsum node is: "P i d, P j d -> P i j" (q k^T, with k itself as
// its second operand) or "P i j, P j d -> P i d" (weights times v), P the same leading indices
// (at least one, the batch among them); neither: none.
enum class EinsumForm { none, scores, values };
EinsumForm einsum_form(const onnx::NodeProto& n) {
  if (n.op_type() != "Einsum" || n.input_size() != 2) return EinsumForm::none;
  std::optional<EinsumTerms> terms;
  for (const auto& attr : n.attribute())
    if (attr.name() == "equation") terms = einsum_terms(attr.s());
  if (!terms || terms->inputs.size() != 2) return EinsumForm::none;
  const std::string &a = terms->inputs[0], &b = terms->inputs[1], &o = terms->output;
  const size_t r = a.size();
  if (r < 3 || b.size() != r || o.size() != r || a.substr(0, r - 2) != b.substr(0, r - 2) || a.substr(0, r - 2) != o.substr(0, r - 2))
    return EinsumForm::none;
  const std::string lead = a.substr(0, r - 2);
  const char a1 = a[r - 2], a2 = a[r - 1], b1 = b[r - 2], b2 = b[r - 1], o1 = o[r - 2], o2 = o[r - 1];
  const std::string tail = {a1, a2, b1, b2};
  for (char ch : tail)
    if (lead.find(ch) != std::string::npos) return EinsumForm::none;
  for (size_t i = 0; i < lead.size(); ++i)
    if (lead.find(lead[i]) != i) return EinsumForm::none;
  if (a2 == b2 && a1 != b1 && a1 != a2 && b1 != a2 && o1 == a1 && o2 == b1) return EinsumForm::scores;
  if (a2 == b1 && a1 != a2 && b2 != a1 && b2 != a2 && o1 == a1 && o2 == b2) return EinsumForm::values;
  return EinsumForm::none;
}

// softmax(scale q k^T + bias) v, found from its Softmax over the last axis: MatMul(q, k^T), a
// scalar Mul or Div (of the scores or of q), an Add of a bias (a constant, or a computed mask read
// as the kernel's bias input), Softmax, a Dropout that keeps
// everything, MatMul by v; either product may be an Einsum of that form (MaxViT writes them so).
// Runs as one scaled_dot_product_attention node: no (N, N) scores.
std::optional<Pattern> attention(const Graph& G, int softmax_index, int64_t opset) {
  const auto& softmax = G.g.node(softmax_index);
  int64_t axis = opset >= 13 ? -1 : 1;
  for (const auto& a : softmax.attribute())
    if (a.name() == "axis") axis = a.i();
  if (axis != -1) return std::nullopt;  // the last axis by rank is checked when it runs
  Pattern p{softmax_index, {softmax_index}, "", nullptr};
  std::vector<Scale> scales;
  std::string scores = softmax.input(0), bias;
  if (const auto* add = G.maker(scores, "Add"); add && G.readers.at(scores) == 1) {
    // The bias is the operand that is not the (scaled) q k^T: a constant, or computed from
    // constants alone (Swin's relative position bias, gathered from its table), or a mask
    // computed from an input.
    auto product = [&](const std::string& v) {
      const auto s = scaled(G, v);
      const std::string m = s ? s->operand : v;
      const auto* e = G.maker(m, "Einsum");
      return (G.maker(m, "MatMul") || (e && einsum_form(*e) == EinsumForm::scores)) && G.readers.at(m) == 1;
    };
    const bool first = product(add->input(1)), second = product(add->input(0));
    if (!first && !second) return std::nullopt;
    bias = first ? add->input(0) : add->input(1);
    p.nodes.insert(G.index_of(add));
    scores = first ? add->input(1) : add->input(0);
  }
  if (const auto s = scaled(G, scores)) {
    p.nodes.insert(G.producer.at(scores));
    scales.push_back(*s);
    scores = s->operand;
  }
  const auto* qk = G.maker(scores, "MatMul");
  const auto* qk_einsum = G.maker(scores, "Einsum");
  const bool k_plain = qk_einsum && einsum_form(*qk_einsum) == EinsumForm::scores;  // k, not k^T
  if (k_plain) qk = qk_einsum;
  if (!qk || G.readers.at(scores) != 1) return std::nullopt;
  p.nodes.insert(G.index_of(qk));
  std::string q = qk->input(0);
  if (const auto s = scaled(G, q)) {  // torch 1.13 scales q before q k^T
    p.nodes.insert(G.producer.at(q));
    scales.push_back(*s);
    q = s->operand;
  }
  std::string weights = softmax.output(0);
  int i = 0;
  if (const auto* drop = G.only_reader(weights, "Dropout", &i)) {  // only one that keeps everything
    if (drop->output_size() > 1 && !drop->output(1).empty() && G.readers.count(drop->output(1)))
      return std::nullopt;  // its mask is read
    const bool no_ratio = drop->input_size() < 2 || drop->input(1).empty();
    const bool zero = !no_ratio && G.near(drop->input(1), 0.0);
    const bool training = drop->input_size() > 2 && !drop->input(2).empty() && !G.near(drop->input(2), 0.0);
    if (training && !zero) return std::nullopt;
    p.nodes.insert(i);
    weights = drop->output(0);
  }
  const auto* av = G.only_reader(weights, "MatMul", &i);
  if (const auto* e = G.only_reader(weights, "Einsum", &i); e && einsum_form(*e) == EinsumForm::values) av = e;
  if (!av || av->input(0) != weights) return std::nullopt;
  p.nodes.insert(i);
  p.last = i;
  const std::string kt = qk->input(1), v = av->input(1);
  p.emit = [=](Converter& c) {
    const auto &qv = c.value(q), &ktv = c.value(kt), &vv = c.value(v);
    if (qv.constant || ktv.constant || vv.constant) c.refuse("its attention reads a constant q, k or v.");
    const size_t r = qv.shape.size();
    if (r < 3 || ktv.shape.size() != r || vv.shape.size() != r) c.refuse("its attention's q, k and v are not (batch, ..., N, d).");
    double scale = 1;  // each factor must be one number (a per-head scale runs the chain node by node)
    for (const Scale& f : scales) {
      const auto& k = c.value(f.factor).constant;
      if (!k || k->count() != 1 || (f.divide && k->values[0] == 0)) return false;
      scale = f.divide ? scale / k->values[0] : scale * k->values[0];
    }
    // A computed bias (a mask from an input) is read as it is: a plain value of the scores' rank
    // whose batch is first, as q's layout has it. Anything else runs the chain node by node.
    const Converter::Value* computed_bias = bias.empty() || c.value(bias).constant ? nullptr : &c.value(bias);
    if (computed_bias) {
      Shape scores = qv.shape;
      scores[r - 1] = ktv.shape[r - 1];
      const auto split = layout_split(qv);
      if (c.implicit_batch() || computed_bias->index || computed_bias->shape.size() != r || !split ||
          split->dim != 0 || split->outer != 1 || split->inner != 1 || computed_bias->shape[0] != qv.shape[0] ||
          !broadcastable(computed_bias->shape, scores))
        return false;
    }
    // k from k^T: its last two dims swapped, as a view.
    std::vector<int64_t> swap(r);
    std::iota(swap.begin(), swap.end(), 0);
    std::swap(swap[r - 1], swap[r - 2]);
    const Converter::Value k =
        k_plain ? ktv : make_view(ktv.name, ktv.index ? ktv.engine_shape : ktv.shape, transposed(index_of(ktv), swap));
    const Laid lq = lay_out(c, qv), lk = lay_out(c, k), lv = lay_out(c, vv);
    auto same = [](const BatchSplit& a, const BatchSplit& b) { return a.dim == b.dim && a.outer == b.outer && a.inner == b.inner; };
    const Shape lead(lq.engine_shape.begin(), lq.engine_shape.end() - 2);
    if (!same(lq.split, lk.split) || !same(lq.split, lv.split) || lq.split.dim + 2 >= r ||
        Shape(lk.engine_shape.begin(), lk.engine_shape.end() - 2) != lead ||
        Shape(lv.engine_shape.begin(), lv.engine_shape.end() - 2) != lead)
      c.refuse("its attention's q, k and v hold the batch in different places.");
    nlohmann::json keys = {{"scale", scale}};
    const int64_t nq = qv.shape[r - 2], nk = k.shape[r - 2];
    if (!bias.empty() && !computed_bias) {
      Shape scores = qv.shape;
      scores[r - 1] = nk;
      keys["bias"] = c.fresh_name() + ".bias";
      c.add_weight(keys["bias"], laid_constant(c, *c.value(bias).constant, scores, lq.split, lq.engine_shape[0]));
    }
    Shape engine = lead, onnx = qv.shape;
    engine.insert(engine.end(), {nq, vv.shape[r - 1]});
    onnx[r - 1] = vv.shape[r - 1];
    std::vector<std::string> inputs = {lq.name, lk.name, lv.name};
    if (computed_bias) inputs.push_back(computed_bias->name);
    const std::string o = c.emit("scaled_dot_product_attention", inputs, keys, engine);
    c.alias(0, make_view(o, engine, split_index(onnx, lq.split, engine[0])));
    return true;
  };
  return p;
}

}  // namespace

std::map<int, Pattern> find_patterns(const onnx::GraphProto& graph, int64_t opset) {
  const Graph G(graph);
  std::map<int, Pattern> found;
  std::set<int> taken;
  for (int i = 0; i < graph.node_size(); ++i) {
    std::optional<Pattern> p;
    if (graph.node(i).op_type() == "Erf") p = gelu(G, i);
    else if (graph.node(i).op_type() == "Sqrt") p = layer_norm(G, i);
    else if (graph.node(i).op_type() == "Softmax") p = attention(G, i, opset);
    if (!p || std::any_of(p->nodes.begin(), p->nodes.end(), [&](int n) { return taken.count(n); })) continue;
    taken.insert(p->nodes.begin(), p->nodes.end());
    found.emplace(p->last, std::move(*p));
  }
  return found;
}

}  // namespace vkattn::onnx_import
