#include "vkattn/conformance.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <optional>
#include <random>

#include <nlohmann/json.hpp>

#include "vkattn/error.h"
#include "vkattn/executor.h"
#include "vkattn/ops.h"
#include "vkattn/reference.h"
#include "vkattn/self_attention.h"

namespace vkattn::conformance {
namespace {

constexpr double kBound = 1e-5;  // relative error of an fp32 kernel against float64

// One case, made ready to run: the graph (its result is the output "y"), its inputs, and the
// reference, computed only after the GPU runs so that a skipped case costs nothing.
struct Prepared {
  Graph graph;
  std::vector<std::pair<std::string, HostTensor>> inputs;
  std::function<std::vector<double>()> reference;
};

struct Case {
  std::string kernel, name;
  std::function<Prepared(std::mt19937_64&)> prepare;
};

HostTensor random(std::mt19937_64& rng, Shape shape, float lo = -1.f, float hi = 1.f) {
  std::uniform_real_distribution<float> u(lo, hi);
  HostTensor t{std::move(shape), {}};
  t.data.resize(element_count(t.shape));
  for (float& v : t.data) v = u(rng);
  return t;
}

std::vector<double> widen(const std::vector<float>& v) { return {v.begin(), v.end()}; }

std::string hw(int64_t h, int64_t w) { return std::to_string(h) + "x" + std::to_string(w); }

std::string dims(std::initializer_list<std::pair<const char*, int64_t>> named) {
  std::string s;
  for (const auto& [name, value] : named) s += std::string(" ") + name + "=" + std::to_string(value);
  return s;
}

struct Spatial {
  int64_t B, H, W;
};

// ---- the matrix ------------------------------------------------------------------------------

void projection_cases(std::vector<Case>& out, bool quick) {
  std::vector<std::pair<int64_t, Spatial>> shapes;
  for (int64_t C : {1, 3, 40, 72, 257}) {
    if (quick && (C == 3 || C == 72)) continue;
    for (Spatial s : {Spatial{1, 1, 1}, Spatial{8, 7, 13}, Spatial{2, 32, 32}})
      if (!quick || s.H != 32) shapes.push_back({C, s});
    if (C <= (quick ? 3 : 40)) shapes.push_back({C, {1, 128, 128}});  // N = 16384
  }
  if (quick) shapes.push_back({3, {1, 128, 128}});
  for (auto [C, s] : shapes) {
    const int64_t M = C + 2 * std::max<int64_t>(1, C / 8);
    out.push_back({"projection", "projection" + dims({{"B", s.B}, {"C", C}, {"M", M}, {"H", s.H}, {"W", s.W}}),
                   [=](std::mt19937_64& rng) {
                     Prepared p;
                     auto x = random(rng, {s.B, C, s.H, s.W}), w = random(rng, {M, C}), b = random(rng, {M});
                     p.graph.output("y", ops::projection(p.graph, p.graph.input("x", x.shape), p.graph.weight("w", w),
                                                         p.graph.weight("b", b)));
                     p.reference = [=] { return reference::projection(x.data, w.data, b.data, s.B, C, M, s.H * s.W); };
                     p.inputs = {{"x", std::move(x)}};
                     return p;
                   }});
  }
}

void scores_cases(std::vector<Case>& out, bool quick) {
  for (int64_t Cq : {1, 3, 40})
    for (auto [B, N] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {8, 91}, {2, 1024}, {1, 4096}, {1, 16384}}) {
      if (quick && (Cq == 3 || N == 1024 || (N == 16384 && Cq != 1))) continue;
      out.push_back({"scores", "scores" + dims({{"B", B}, {"Cq", Cq}, {"N", N}}), [=](std::mt19937_64& rng) {
                       Prepared p;
                       auto q = random(rng, {B, Cq, N}), k = random(rng, {B, Cq, N});
                       const float scale = 1.f / std::sqrt(float(Cq));
                       p.graph.output("y", ops::scores(p.graph, {p.graph.input("q", q.shape), 0, Cq},
                                                       {p.graph.input("k", k.shape), 0, Cq}, scale));
                       p.reference = [=] { return reference::scores(widen(q.data), widen(k.data), B, Cq, N, scale); };
                       p.inputs = {{"q", std::move(q)}, {"k", std::move(k)}};
                       return p;
                     }});
    }
}

void softmax_cases(std::vector<Case>& out, bool quick, const DeviceInfo& device) {
  auto add = [&](int64_t B, int64_t rows, int64_t L) {
    out.push_back({"softmax", "softmax" + dims({{"B", B}, {"rows", rows}, {"L", L}}), [=](std::mt19937_64& rng) {
                     Prepared p;
                     // Large logits: a softmax that does not subtract the row max overflows.
                     auto x = random(rng, {B, rows, L}, 470.f, 530.f);
                     p.graph.output("y", ops::softmax(p.graph, p.graph.input("x", x.shape)));
                     p.reference = [=] { return reference::softmax(widen(x.data), B * rows, L); };
                     p.inputs = {{"x", std::move(x)}};
                     return p;
                   }});
  };
  for (int64_t L : {1, 255, 256, 257, 4097, 16384})  // rows shorter and longer than a 256-thread workgroup
    for (int64_t rows : {1, 37})
      for (int64_t B : {1, 8})
        if (!quick || (B == 8) == (rows == 1)) add(B, rows, L);
  // One workgroup per row: more rows than the grid's x limit (65535 on many devices) makes a 2-D grid.
  add(1, std::min<int64_t>(device.max_workgroup_count[0], 1 << 20) + 17, 3);
}

void attend_cases(std::vector<Case>& out, bool quick) {
  for (int64_t Cv : {1, 3, 40, 72, 257})
    for (auto [B, N] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {8, 91}, {2, 1024}, {1, 4096}}) {
      if (N == 4096 && Cv > (quick ? 3 : 40)) continue;
      if (quick && (Cv == 3 || Cv == 40) && N != 4096) continue;
      if (quick && N == 1024) continue;
      out.push_back({"attend", "attend" + dims({{"B", B}, {"Cv", Cv}, {"N", N}}), [=](std::mt19937_64& rng) {
                       Prepared p;
                       auto v = random(rng, {B, Cv, N}), a = random(rng, {B, N, N}, 0.f, 2.f / N);
                       p.graph.output("y", ops::attend(p.graph, {p.graph.input("v", v.shape), 0, Cv}, p.graph.input("a", a.shape)));
                       p.reference = [=] { return reference::attend(widen(v.data), widen(a.data), B, Cv, N); };
                       p.inputs = {{"v", std::move(v)}, {"a", std::move(a)}};
                       return p;
                     }});
    }
}

void residual_cases(std::vector<Case>& out, bool) {
  for (Shape shape : {Shape{1, 1, 1, 1}, Shape{8, 3, 7, 13}, Shape{2, 257, 32, 32}})
    out.push_back({"residual", "residual" + dims({{"B", shape[0]}, {"C", shape[1]}, {"H", shape[2]}, {"W", shape[3]}}),
                   [=](std::mt19937_64& rng) {
                     Prepared p;
                     auto o = random(rng, shape), x = random(rng, shape), gamma = random(rng, {1}, 0.2f, 1.5f);
                     p.graph.output("y", ops::residual(p.graph, p.graph.input("o", shape), p.graph.input("x", shape),
                                                       p.graph.weight("gamma", gamma)));
                     p.reference = [=] { return reference::residual(widen(o.data), widen(x.data), gamma.data[0]); };
                     p.inputs = {{"o", std::move(o)}, {"x", std::move(x)}};
                     return p;
                   }});
}

void conv2d_cases(std::vector<Case>& out, bool quick) {
  struct C2 {
    reference::Image in;
    int64_t M;
    reference::Window w;
  };
  std::vector<C2> cases = {{{1, 1, 1, 1}, 1, {3, 3, 1, 1, 1, 1}},   {{8, 3, 7, 13}, 5, {3, 3, 1, 1, 1, 1}},
                           {{2, 1, 28, 28}, 16, {3, 3, 1, 1, 1, 1}}, {{2, 40, 9, 11}, 72, {5, 3, 2, 1, 2, 1}},
                           {{1, 3, 17, 17}, 257, {4, 4, 3, 3, 0, 0}}, {{1, 2, 5, 6}, 3, {5, 6, 1, 1, 0, 0}}};
  if (!quick) cases.push_back({{2, 72, 32, 32}, 40, {3, 3, 1, 1, 1, 1}});
  for (const C2& c : cases) {
    const auto [in, M, w] = c;
    out.push_back({"conv2d", "conv2d" + dims({{"B", in.B}, {"C", in.C}, {"H", in.H}, {"W", in.W}, {"M", M}}) + " k=" +
                                 hw(w.kh, w.kw) + " stride=" + hw(w.sh, w.sw) + " pad=" + hw(w.ph, w.pw),
                   [=](std::mt19937_64& rng) {
                     Prepared p;
                     auto x = random(rng, {in.B, in.C, in.H, in.W}), wt = random(rng, {M, in.C, w.kh, w.kw}),
                          b = random(rng, {M});
                     p.graph.output("y", ops::conv2d(p.graph, p.graph.input("x", x.shape), p.graph.weight("w", wt),
                                                     p.graph.weight("b", b), {w.sh, w.sw}, {w.ph, w.pw}));
                     p.reference = [=] { return reference::conv2d(widen(x.data), in, widen(wt.data), widen(b.data), M, w); };
                     p.inputs = {{"x", std::move(x)}};
                     return p;
                   }});
  }
}

void pool_cases(std::vector<Case>& out, bool quick) {
  const std::vector<reference::Window> windows = {{2, 2, 2, 2, 0, 0}, {3, 3, 2, 2, 1, 1}, {3, 2, 3, 1, 0, 1}};
  for (bool max : {true, false})
    for (const auto& w : windows)
      for (const reference::Image in : {reference::Image{1, 1, 3, 3}, {8, 5, 7, 13}, {1, 3, 128, 128}}) {
        if (quick && in.H == 128) continue;
        const std::string kernel = max ? "max_pool2d" : "avg_pool2d";
        out.push_back({kernel, kernel + dims({{"B", in.B}, {"C", in.C}, {"H", in.H}, {"W", in.W}}) + " k=" + hw(w.kh, w.kw) +
                                   " stride=" + hw(w.sh, w.sw) + " pad=" + hw(w.ph, w.pw),
                       [=](std::mt19937_64& rng) {
                         Prepared p;
                         auto x = random(rng, {in.B, in.C, in.H, in.W}, max ? -2.f : -1.f, max ? -0.5f : 1.f);
                         const auto input = p.graph.input("x", x.shape);
                         p.graph.output("y", max ? ops::max_pool2d(p.graph, input, {w.kh, w.kw}, {w.sh, w.sw}, {w.ph, w.pw})
                                                 : ops::avg_pool2d(p.graph, input, {w.kh, w.kw}, {w.sh, w.sw}, {w.ph, w.pw}));
                         p.reference = [=] { return reference::pool2d(widen(x.data), in, w, max); };
                         p.inputs = {{"x", std::move(x)}};
                         return p;
                       }});
      }
  for (const reference::Image in : {reference::Image{1, 1, 1, 1}, {8, 3, 7, 13}, {1, 5, 128, 128}})
    out.push_back({"global_avg_pool2d", "global_avg_pool2d" + dims({{"B", in.B}, {"C", in.C}, {"H", in.H}, {"W", in.W}}),
                   [=](std::mt19937_64& rng) {
                     Prepared p;
                     auto x = random(rng, {in.B, in.C, in.H, in.W});
                     p.graph.output("y", ops::global_avg_pool2d(p.graph, p.graph.input("x", x.shape)));
                     p.reference = [=] { return reference::global_avg_pool2d(widen(x.data), in); };
                     p.inputs = {{"x", std::move(x)}};
                     return p;
                   }});
}

void elementwise_cases(std::vector<Case>& out, bool, const DeviceInfo& device) {
  // 256 elements per workgroup: one item past the grid's x limit needs a 2-D grid.
  const int64_t wide = (std::min<int64_t>(device.max_workgroup_count[0], 65535) + 5) * 256;
  for (Shape shape : {Shape{1}, Shape{8, 3, 7, 13}, Shape{1, wide}})
    out.push_back({"relu", "relu shape=" + vkattn::to_string(shape), [=](std::mt19937_64& rng) {
                     Prepared p;
                     auto x = random(rng, shape);
                     p.graph.output("y", ops::relu(p.graph, p.graph.input("x", shape)));
                     p.reference = [=] { return reference::relu(widen(x.data)); };
                     p.inputs = {{"x", std::move(x)}};
                     return p;
                   }});
  for (Shape shape : {Shape{1, 1, 1, 1}, Shape{8, 5, 7, 13}})
    out.push_back({"flatten", "flatten shape=" + vkattn::to_string(shape), [=](std::mt19937_64& rng) {
                     Prepared p;
                     auto x = random(rng, shape);
                     p.graph.output("y", ops::flatten(p.graph, p.graph.input("x", shape)));
                     p.reference = [=] { return widen(x.data); };
                     p.inputs = {{"x", std::move(x)}};
                     return p;
                   }});
}

void linear_cases(std::vector<Case>& out, bool quick) {
  std::vector<std::array<int64_t, 3>> shapes = {{1, 1, 1}, {8, 100, 10}, {65, 3136, 257}};
  if (!quick) shapes.push_back({257, 1000, 72});
  for (auto [B, F, M] : shapes)
    out.push_back({"linear", "linear" + dims({{"B", B}, {"F", F}, {"M", M}}), [=](std::mt19937_64& rng) {
                     Prepared p;
                     auto x = random(rng, {B, F}), w = random(rng, {M, F}), b = random(rng, {M});
                     p.graph.output("y", ops::linear(p.graph, p.graph.input("x", x.shape), p.graph.weight("w", w),
                                                     p.graph.weight("b", b)));
                     p.reference = [=] { return reference::linear(widen(x.data), widen(w.data), widen(b.data), B, F, M); };
                     p.inputs = {{"x", std::move(x)}};
                     return p;
                   }});
}

std::vector<double> block_reference(const HostTensor& x, const SelfAttentionWeights& w) {
  const int64_t B = x.shape[0], C = w.channels, Cq = w.query_channels, N = x.shape[2] * x.shape[3];
  const auto q = reference::projection(x.data, w.query_weight.data, w.query_bias.data, B, C, Cq, N);
  const auto k = reference::projection(x.data, w.key_weight.data, w.key_bias.data, B, C, Cq, N);
  const auto v = reference::projection(x.data, w.value_weight.data, w.value_bias.data, B, C, C, N);
  const auto a = reference::softmax(reference::scores(q, k, B, Cq, N, w.scale), B * N, N);
  return reference::residual(reference::attend(v, a, B, C, N), widen(x.data), w.gamma);
}

void block_cases(std::vector<Case>& out, bool quick) {
  struct BlockShape {
    int64_t B, C, Cq, H, W;
  };
  std::vector<BlockShape> shapes = {{1, 1, 1, 1, 1}, {8, 3, 1, 7, 13}, {1, 257, 32, 9, 9}, {1, 8, 1, 128, 128}};
  if (!quick)
    shapes.insert(shapes.end(), {{2, 40, 5, 16, 16}, {1, 72, 9, 32, 32}, {1, 8, 1, 64, 64}, {3, 16, 2, 64, 64}});
  for (const BlockShape s : shapes)
    out.push_back({"block", "block" + dims({{"B", s.B}, {"C", s.C}, {"Cq", s.Cq}, {"H", s.H}, {"W", s.W}}),
                   [=](std::mt19937_64& rng) {
                     Prepared p;
                     const float range = 1.f / std::sqrt(float(s.C));
                     SelfAttentionWeights w{s.C, s.Cq,
                                            random(rng, {s.Cq, s.C}, -range, range), random(rng, {s.Cq}),
                                            random(rng, {s.Cq, s.C}, -range, range), random(rng, {s.Cq}),
                                            random(rng, {s.C, s.C}, -range, range), random(rng, {s.C}),
                                            0.8f, 1.f / std::sqrt(float(s.Cq))};
                     auto x = random(rng, {s.B, s.C, s.H, s.W});
                     p.graph.output("y", add_self_attention(p.graph, p.graph.input("x", x.shape), w).y);
                     p.reference = [=] { return block_reference(x, w); };
                     p.inputs = {{"x", std::move(x)}};
                     return p;
                   }});
}

std::vector<Case> matrix(bool quick, const DeviceInfo& device) {
  std::vector<Case> cases;
  projection_cases(cases, quick);
  scores_cases(cases, quick);
  softmax_cases(cases, quick, device);
  attend_cases(cases, quick);
  residual_cases(cases, quick);
  conv2d_cases(cases, quick);
  pool_cases(cases, quick);
  elementwise_cases(cases, quick, device);
  linear_cases(cases, quick);
  block_cases(cases, quick);
  return cases;
}

// ---- running one case ------------------------------------------------------------------------

std::vector<float> run_once(Executor& exec, const std::vector<std::pair<std::string, HostTensor>>& inputs) {
  for (const auto& [name, t] : inputs) exec.set_input(name, t);
  exec.fill_outputs(std::numeric_limits<float>::quiet_NaN());  // an element never written stays NaN
  exec.run();
  return exec.output("y").data;
}

void check(Result& r, Context& ctx, const Case& c, std::mt19937_64& rng) {
  Prepared p = c.prepare(rng);
  std::optional<Executor> exec;
  try {
    exec.emplace(ctx, p.graph);
  } catch (const DeviceLimitError& e) {
    r.status = Status::Skipped;
    r.reason = e.what();
    return;
  }
  const std::vector<float> first = run_once(*exec, p.inputs), second = run_once(*exec, p.inputs);
  exec.reset();
  r.status = Status::Failed;
  if (std::memcmp(first.data(), second.data(), first.size() * sizeof(float)) != 0) {
    size_t i = 0;
    while (std::memcmp(&first[i], &second[i], sizeof(float)) == 0) ++i;
    r.reason = "the two runs differ at element " + std::to_string(i) + " (" + std::to_string(first[i]) + " vs " +
               std::to_string(second[i]) + "): a race";
    return;
  }
  const std::vector<double> ref = p.reference();
  if (ref.size() != first.size()) {
    r.reason = "the output has " + std::to_string(first.size()) + " elements, the reference " + std::to_string(ref.size());
    return;
  }
  double diff = 0, norm = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(first[i])) {
      r.max_abs = r.relative = std::numeric_limits<double>::infinity();
      r.reason = "element " + std::to_string(i) + " is " + std::to_string(first[i]) + " (never written, or overflow)";
      return;
    }
    const double d = first[i] - ref[i];
    diff += d * d;
    norm += ref[i] * ref[i];
    r.max_abs = std::max(r.max_abs, std::abs(d));
  }
  r.relative = norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
  if (r.relative <= r.bound) r.status = Status::Passed;
  else r.reason = "relative error above the bound";
}

}  // namespace

const char* to_string(Status s) {
  return s == Status::Passed ? "pass" : s == Status::Failed ? "FAIL" : "skip";
}

Report run(Context& ctx, const Options& options) {
  Report report;
  report.device = ctx.device();
  report.quick = options.quick;
  report.seed = options.seed ? options.seed : std::random_device{}() | uint64_t(std::random_device{}()) << 32;
  std::mt19937_64 rng(report.seed);
  for (const Case& c : matrix(options.quick, report.device)) {
    if (!options.filter.empty() && c.name.find(options.filter) == std::string::npos) continue;
    Result r{c.kernel, c.name, "fp32", Status::Skipped, 0, 0, kBound, "", 0};
    const auto start = std::chrono::steady_clock::now();
    try {
      check(r, ctx, c, rng);
    } catch (const DeviceLimitError& e) {
      r.status = Status::Skipped;
      r.reason = e.what();
    } catch (const std::bad_alloc&) {
      r.status = Status::Skipped;
      r.reason = "the host ran out of memory for the inputs or the reference";
    } catch (const Error& e) {
      r.status = Status::Failed;
      r.reason = e.what();
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    (r.status == Status::Passed ? report.passed : r.status == Status::Failed ? report.failed : report.skipped)++;
    report.results.push_back(r);
    if (options.on_result) options.on_result(r);
  }
  return report;
}

std::string to_json(const Report& report) {
  const DeviceInfo& d = report.device;
  nlohmann::ordered_json j;
  j["device"] = {{"name", d.name},
                 {"type", d.type},
                 {"vendor_id", d.vendor_id},
                 {"device_id", d.device_id},
                 {"driver_name", d.driver_name},
                 {"driver_info", d.driver_info},
                 {"driver_version", d.driver_version},
                 {"vulkan_api_version", version_string(d.api_version)},
                 {"subgroup_size", d.subgroup_size},
                 {"shader_float16", d.shader_float16},
                 {"storage_buffer_16bit", d.storage_buffer_16bit}};
  j["limits"] = {{"maxStorageBufferRange", d.max_storage_buffer_range},
                 {"maxMemoryAllocationSize", d.max_memory_allocation_size},
                 {"maxBufferSize", d.max_buffer_size},
                 {"maxComputeSharedMemorySize", d.max_shared_memory},
                 {"maxComputeWorkGroupInvocations", d.max_workgroup_invocations},
                 {"maxComputeWorkGroupCount", d.max_workgroup_count},
                 {"maxComputeWorkGroupSize", d.max_workgroup_size},
                 {"minStorageBufferOffsetAlignment", d.min_storage_buffer_offset_alignment},
                 {"largestDeviceLocalHeap", d.device_local_bytes}};
  j["precisions"] = {"fp32"};
  j["quick"] = report.quick;
  j["seed"] = report.seed;
  j["summary"] = {{"passed", report.passed}, {"failed", report.failed}, {"skipped", report.skipped}};
  auto number = [](double v) { return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json("inf"); };
  for (const Result& r : report.results)
    j["cases"].push_back({{"case", r.name},
                          {"kernel", r.kernel},
                          {"precision", r.precision},
                          {"status", to_string(r.status)},
                          {"max_abs_error", number(r.max_abs)},
                          {"relative_error", number(r.relative)},
                          {"bound", r.bound},
                          {"reason", r.reason},
                          {"seconds", r.seconds}});
  return j.dump(2) + "\n";
}

std::string to_markdown(const Report& report) {
  const DeviceInfo& d = report.device;
  char line[512];
  std::string md = "# vkattn conformance: " + d.name + "\n\n";
  std::snprintf(line, sizeof line,
                "- device: %s (%s), vendor 0x%04x, device 0x%04x\n- driver: %s %s\n- Vulkan API: %s; subgroup size %u\n"
                "- maxStorageBufferRange %llu MiB, maxMemoryAllocationSize %llu MiB, maxComputeSharedMemorySize %u KiB, "
                "maxComputeWorkGroupCount %u x %u x %u\n- matrix: %s, precision fp32, seed %llu\n\n",
                d.name.c_str(), d.type.c_str(), d.vendor_id, d.device_id, d.driver_name.c_str(), d.driver_info.c_str(),
                version_string(d.api_version).c_str(), d.subgroup_size,
                (unsigned long long)(d.max_storage_buffer_range >> 20),
                (unsigned long long)(d.max_memory_allocation_size >> 20), d.max_shared_memory >> 10,
                d.max_workgroup_count[0], d.max_workgroup_count[1], d.max_workgroup_count[2],
                report.quick ? "quick" : "full", (unsigned long long)report.seed);
  md += line;
  md += "**" + std::to_string(report.passed) + " passed, " + std::to_string(report.failed) + " failed, " +
        std::to_string(report.skipped) + " skipped**\n\n";
  md += "| case | max abs error | relative error | bound | result |\n|---|---|---|---|---|\n";
  for (const Result& r : report.results) {
    if (r.status == Status::Skipped) {
      md += "| " + r.name + " | | | | skip: " + r.reason + " |\n";
      continue;
    }
    std::snprintf(line, sizeof line, "| %s | %.2e | %.2e | %.0e | %s%s%s |\n", r.name.c_str(), r.max_abs, r.relative,
                  r.bound, to_string(r.status), r.reason.empty() ? "" : ": ", r.reason.c_str());
    md += line;
  }
  return md;
}

}  // namespace vkattn::conformance
