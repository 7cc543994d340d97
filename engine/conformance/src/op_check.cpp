#include "vkattn/op_check.h"

#include <cmath>

#include "half_float.h"
#include "vkattn/error.h"

namespace vkattn::conformance {

// One declaration and one call per op unit that has a <unit>_check.cpp (check_units.inc, made by CMake).
#define VKATTN_CHECK_UNIT(unit) void register_##unit##_check(CheckRegistry&);
#include "check_units.inc"
#undef VKATTN_CHECK_UNIT

const CheckRegistry& CheckRegistry::instance() {
  static const CheckRegistry registry = [] {
    CheckRegistry r;
#define VKATTN_CHECK_UNIT(unit) register_##unit##_check(r);
#include "check_units.inc"
#undef VKATTN_CHECK_UNIT
    return r;
  }();
  return registry;
}

void CheckRegistry::add(OpCheck check) { checks_.push_back(std::move(check)); }

const OpCheck& CheckRegistry::find(const std::string& op) const {
  for (const OpCheck& c : checks_)
    if (c.op == op) return c;
  throw Error("The conformance suite has no check for an op called '" + op + "'.");
}

std::string case_name(const std::string& op, const Spec& spec) {
  std::string name = op;
  for (const auto& [key, value] : spec.items()) {
    std::string text;
    if (value.is_array())
      for (const auto& v : value) {
        if (!text.empty()) text += 'x';
        text += v.dump();
      }
    else
      text = value.is_string() ? value.get<std::string>() : value.dump();
    name += " " + key + "=" + text;
  }
  return name;
}

namespace {
thread_local bool draw_halves = false;
}  // namespace

DrawHalves::DrawHalves() : before_(draw_halves) { draw_halves = true; }
DrawHalves::~DrawHalves() { draw_halves = before_; }

float drawn(float v) { return draw_halves ? half_to_float(float_to_half(v)) : v; }

HostTensor random(Rng& rng, Shape shape, float lo, float hi) {
  std::uniform_real_distribution<float> u(lo, hi);
  HostTensor t{std::move(shape), {}};
  t.data.resize(element_count(t.shape));
  for (float& v : t.data) v = drawn(u(rng));
  return t;
}

std::vector<double> widen(const std::vector<float>& v) { return {v.begin(), v.end()}; }

int64_t integer(const Spec& spec, const char* key) {
  if (!spec.contains(key) || !spec[key].is_number_integer())
    throw Error("A conformance case needs a whole number '" + std::string(key) + "', but its spec is " + spec.dump() + ".");
  return spec[key].get<int64_t>();
}

Shape shape(const Spec& spec, const char* key) {
  if (!spec.contains(key) || !spec[key].is_array())
    throw Error("A conformance case needs a list '" + std::string(key) + "', but its spec is " + spec.dump() + ".");
  return spec[key].get<Shape>();
}

std::string special(const Spec& spec) {
  const std::string kind = spec.value("special", "");
  if (kind != "" && kind != "nan" && kind != "inf")
    throw Error("A conformance case's \"special\" must be \"nan\" or \"inf\", but its spec is " + spec.dump() + ".");
  return kind;
}

void sprinkle(HostTensor& t, const std::string& kind, int64_t count, Rng& rng) {
  if (kind.empty() || t.data.empty()) return;
  std::uniform_int_distribution<size_t> at(0, t.data.size() - 1);
  for (int64_t i = 0; i < count; ++i) t.data[at(rng)] = kind == "nan" ? kNaN : i % 2 ? -kInf : kInf;
}

double max_nan(double a, double b) { return std::isnan(a) || a > b ? a : b; }

double max_nan(const double* first, const double* last) {
  double m = -INFINITY;
  for (; first != last; ++first) m = max_nan(m, *first);
  return m;
}

}  // namespace vkattn::conformance
