#include "bench_report.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

double per_ms(double amount, double ms) { return ms > 0 ? amount / ms : 0.0; }

std::string line(const char* format, auto... values) {
  char buffer[512];
  std::snprintf(buffer, sizeof buffer, format, values...);
  return buffer;
}

}  // namespace

nlohmann::ordered_json bench_breakdown(const std::vector<std::vector<vkattn::NodeTiming>>& runs,
                                       const std::vector<double>& wall_ms) {
  using nlohmann::ordered_json;
  const double wall = median(wall_ms);
  ordered_json nodes = ordered_json::array();
  struct Group {
    double gpu_ms = 0, flops = 0, bytes = 0;
    uint64_t nodes = 0, dispatches = 0;
  };
  std::map<std::string, Group> groups;
  double dispatch_ms = 0, barrier_ms = 0, flops = 0, small_ms = 0;
  uint64_t small = 0, dispatches = 0;
  const size_t count = runs.empty() ? 0 : runs.back().size();
  for (size_t k = 0; k < count; ++k) {
    std::vector<double> gpu, barrier;
    for (const auto& run : runs) {
      gpu.push_back(run.at(k).gpu_ms);
      barrier.push_back(run.at(k).barrier_ms);
    }
    const vkattn::NodeTiming& t = runs.back()[k];
    const double ms = median(gpu), wait = median(barrier);
    nodes.push_back({{"name", t.node}, {"kernel", t.kernel}, {"gpu_ms", ms}, {"barrier_ms", wait},
                     {"dispatches", t.dispatches}, {"gflop", t.flops * 1e-9}, {"gflops", per_ms(t.flops * 1e-6, ms)},
                     {"mbytes", t.bytes * 1e-6}, {"gbytes_per_s", per_ms(t.bytes * 1e-6, ms)}});
    Group& g = groups[t.kernel];
    g.gpu_ms += ms, g.flops += t.flops, g.bytes += t.bytes, ++g.nodes, g.dispatches += t.dispatches;
    dispatch_ms += ms, barrier_ms += wait, flops += t.flops, dispatches += t.dispatches;
    if (t.dispatches && ms / t.dispatches < kSmallDispatchMs) small_ms += ms, small += t.dispatches;
  }
  std::vector<std::pair<std::string, Group>> ranked(groups.begin(), groups.end());
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.second.gpu_ms > b.second.gpu_ms; });
  ordered_json kernels = ordered_json::array();
  for (const auto& [kernel, g] : ranked)
    kernels.push_back({{"kernel", kernel}, {"nodes", g.nodes}, {"dispatches", g.dispatches}, {"gpu_ms", g.gpu_ms},
                       {"share", per_ms(g.gpu_ms, wall)}, {"gflops", per_ms(g.flops * 1e-6, g.gpu_ms)},
                       {"gbytes_per_s", per_ms(g.bytes * 1e-6, g.gpu_ms)}});
  // What the timestamps do not cover (submission, the fence wait), run by run.
  std::vector<double> uncovered;
  for (size_t r = 0; r < runs.size() && r < wall_ms.size(); ++r) {
    double covered = 0;
    for (const auto& t : runs[r]) covered += t.gpu_ms + t.barrier_ms;
    uncovered.push_back(std::max(0.0, wall_ms[r] - covered));
  }
  const double other = median(uncovered);
  const auto [fastest, slowest] = std::minmax_element(wall_ms.begin(), wall_ms.end());
  return {{"wall_ms", {{"min", wall_ms.empty() ? 0.0 : *fastest}, {"median", wall},
                       {"max", wall_ms.empty() ? 0.0 : *slowest}}},
          {"gflops", per_ms(flops * 1e-6, wall)},
          {"time", {{"dispatch_ms", dispatch_ms}, {"barrier_ms", barrier_ms}, {"barrier_share", per_ms(barrier_ms, wall)},
                    {"small_dispatches", small}, {"dispatches", dispatches}, {"small_dispatch_ms", small_ms},
                    {"small_dispatch_share", per_ms(small_ms, wall)}, {"other_ms", other},
                    {"other_share", per_ms(other, wall)}}},
          {"nodes", nodes},
          {"kernels", kernels}};
}

std::string bench_breakdown_text(const nlohmann::ordered_json& b) {
  std::string out;
  const auto& nodes = b["nodes"];
  if (nodes.empty()) return "(this queue has no timestamps: wall time only)\n";
  out += line("\n  %-44s %-24s %9s %9s %9s %9s\n", "node", "kernel", "GPU ms", "barrier", "GFLOP/s", "GB/s");
  for (const auto& n : nodes)
    out += line("  %-44.44s %-24.24s %9.3f %9.3f %9.2f %9.2f\n", n["name"].get<std::string>().c_str(),
                n["kernel"].get<std::string>().c_str(), n["gpu_ms"].get<double>(), n["barrier_ms"].get<double>(),
                n["gflops"].get<double>(), n["gbytes_per_s"].get<double>());
  out += line("\n  %-24s %6s %10s %9s %7s %9s %9s\n", "by kernel", "nodes", "dispatches", "GPU ms", "share", "GFLOP/s",
              "GB/s");
  for (const auto& k : b["kernels"])
    out += line("  %-24.24s %6llu %10llu %9.3f %6.1f%% %9.2f %9.2f\n", k["kernel"].get<std::string>().c_str(),
                (unsigned long long)k["nodes"].get<uint64_t>(), (unsigned long long)k["dispatches"].get<uint64_t>(),
                k["gpu_ms"].get<double>(), 100 * k["share"].get<double>(), k["gflops"].get<double>(),
                k["gbytes_per_s"].get<double>());
  const auto& t = b["time"];
  out += line("\n  of the wall time: dispatches %.3f ms, barriers %.3f ms (%.1f%%), the rest %.3f ms (%.1f%%: submission, "
              "fence wait, timestamps)\n",
              t["dispatch_ms"].get<double>(), t["barrier_ms"].get<double>(), 100 * t["barrier_share"].get<double>(),
              t["other_ms"].get<double>(), 100 * t["other_share"].get<double>());
  out += line("  small dispatches (under %.1f ms each): %llu of %llu, %.3f ms (%.1f%%)\n", kSmallDispatchMs,
              (unsigned long long)t["small_dispatches"].get<uint64_t>(), (unsigned long long)t["dispatches"].get<uint64_t>(),
              t["small_dispatch_ms"].get<double>(), 100 * t["small_dispatch_share"].get<double>());
  return out;
}
