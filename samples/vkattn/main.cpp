// vkattn: the command-line tool. `vkattn help` lists the commands.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>

#include <nlohmann/json.hpp>

#include "bench_report.h"
#include "output_folder.h"
#include "command_line.h"
#include "rollout.h"
#include "exit_status.h"
#include "validation.h"
#include "vkattn/conformance.h"
#include "vkattn/vkattn.h"

namespace {

const char* kFooter = R"(--device takes an index or part of a name (also the VKATTN_DEVICE environment variable).
VKATTN_VALIDATION=1 turns on the Khronos validation layer; any message it prints makes the
command fail. Every error is one sentence on stderr: exit status 2 for a mistake on the command
line, 1 for any other failure.)";

// Each command's options, as parsed.
struct Options {
  std::string device;
  std::string model, attention, prefix = "auto";  // run (model also bench)
  std::vector<std::string> inputs, outputs;       // run: PATH or NAME=PATH each
  std::string shape;                                               // bench
  uint64_t batch = 0, iterations = 10;
  bool json = false;
  std::string report, markdown, filter;  // conformance
  bool quick = false;
  uint64_t seed = vkattn::conformance::Options{}.seed;
  vkattn::Precision precision = vkattn::Precision::fp32;  // run, bench, conformance
};

// "1,64,32,32" -> {1, 64, 32, 32}; anything but positive whole numbers is an error.
std::vector<int64_t> parse_shape(const std::string& text) {
  std::vector<int64_t> shape;
  size_t at = 0;
  while (true) {
    const size_t comma = text.find(',', at);
    const std::string part = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    if (part.empty() || part.size() > 9 || part.find_first_not_of("0123456789") != std::string::npos || std::stoll(part) < 1)
      throw vkattn::Error("Shape '" + text + "' must be positive integers separated by commas, like 1,64,32,32.");
    shape.push_back(std::stoll(part));
    if (comma == std::string::npos) return shape;
    at = comma + 1;
  }
}

vkattn::Context open_context(const Options& o) {
  return vkattn::Context::create(sample_context_options(o.device, "vkattn"));
}

std::string kib(uint64_t bytes) { return std::to_string(bytes >> 10) + " KiB"; }

void print_device(const vkattn::DeviceInfo& d) {
  std::printf("  [%u] %s (%s, vendor 0x%04x, device 0x%04x)\n", d.index, d.name.c_str(), d.type.c_str(), d.vendor_id,
              d.device_id);
}

vkattn::SelfAttentionWeights random_weights(int64_t C) {
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  const int64_t Cq = std::max<int64_t>(1, C / 8);
  auto make = [&](vkattn::Shape shape) {
    vkattn::HostTensor t{shape, std::vector<float>(vkattn::element_count(shape))};
    for (float& v : t.data) v = u(rng) / std::sqrt(float(C));
    return t;
  };
  return {C, Cq, make({Cq, C}), make({Cq}), make({Cq, C}), make({Cq}), make({C, C}), make({C}), 0.5f, 1.0f};
}

// What a model file holds: its inputs, outputs and nodes (a lone block: its sizes).
int describe_model(const std::string& path) {
  const auto file = vkattn::load_model(path);
  if (!vkattn::Network::describes(file)) {
    const auto block = vkattn::SelfAttentionWeights::from_safetensors(file, "auto");
    std::printf("%s: one self-attention block, C %lld, Cq %lld; input x (B, %lld, H, W), output y of x's shape\n",
                path.c_str(), (long long)block.channels, (long long)block.query_channels, (long long)block.channels);
    return 0;
  }
  const auto net = vkattn::Network::from_safetensors(file);
  std::printf("%s: a network of %zu nodes\n", path.c_str(), net.layers().size());
  vkattn::Graph graph;  // at batch 1, printed as B
  const auto inputs = net.add_inputs(graph, 1);
  for (const auto& [name, item] : net.inputs())
    std::printf("  input  %-20s (B%s\n", name.c_str(), vkattn::to_string(graph.shape(inputs.at(name))).substr(2).c_str());
  for (const auto& [name, id] : net.build(graph, inputs).outputs)
    std::printf("  output %-20s (B%s\n", name.c_str(), vkattn::to_string(graph.shape(id)).substr(2).c_str());
  std::map<std::string, int> types;
  for (const auto& layer : net.layers()) ++types[layer.type];
  std::string counts;
  for (const auto& [type, n] : types) counts += (counts.empty() ? "" : ", ") + type + " " + std::to_string(n);
  std::printf("  nodes  %s\n", counts.c_str());
  if (!net.labels().empty()) std::printf("  labels %zu classes\n", net.labels().size());
  return 0;
}

int info(const Options& o) {
  if (!o.model.empty()) return describe_model(o.model);
  std::printf("vkattn %s\n\n", vkattn::version());
  const auto devices = vkattn::Context::list_devices();
  std::printf("Vulkan devices:\n");
  for (const auto& d : devices) print_device(d);
  vkattn::Context ctx = open_context(o);
  const auto& d = ctx.device();
  std::printf("\nChosen device [%u]: %s\n", d.index, d.name.c_str());
  std::printf("  type                          %s\n", d.type.c_str());
  std::printf("  driver                        %s %s\n", d.driver_name.c_str(), d.driver_info.c_str());
  std::printf("  Vulkan API                    %s\n", vkattn::version_string(d.api_version).c_str());
  std::printf("  subgroup size                 %u\n", d.subgroup_size);
  std::printf("  fp16 arithmetic / storage     %s / %s\n", d.shader_float16 ? "yes" : "no",
              d.storage_buffer_16bit ? "yes" : "no");
  std::printf("  timestamps on compute queue   %s (period %.3g ns)\n", d.timestamps ? "yes" : "no",
              d.timestamp_period_ns);
  std::printf("  maxStorageBufferRange         %llu MiB\n", (unsigned long long)(d.max_storage_buffer_range >> 20));
  std::printf("  maxTexelBufferElements        %llu\n", (unsigned long long)d.max_texel_buffer_elements);
  std::printf("  maxMemoryAllocationSize       %llu MiB\n", (unsigned long long)(d.max_memory_allocation_size >> 20));
  std::printf("  maxComputeSharedMemorySize    %s\n", kib(d.max_shared_memory).c_str());
  std::printf("  maxComputeWorkGroupCount      %u x %u x %u\n", d.max_workgroup_count[0], d.max_workgroup_count[1],
              d.max_workgroup_count[2]);
  std::printf("  maxComputeWorkGroupInvocations %u\n", d.max_workgroup_invocations);
  std::printf("  largest device-local heap     %llu MiB\n", (unsigned long long)(d.device_local_bytes >> 20));
  std::printf("  kernel profile                %s%s\n", d.profile.c_str(),
              std::getenv("VKATTN_PROFILE") ? " (forced by VKATTN_PROFILE)" : " (VKATTN_PROFILE=cpu|gpu forces one)");
  // The kernels this profile picks, as planned for one block of (1, 64, 32, 32) without and with its map.
  for (const bool map : {false, true}) {
    vkattn::Graph graph;
    const auto block = vkattn::add_self_attention(graph, graph.input("x", {1, 64, 32, 32}),
                                                  random_weights(64), "", map);
    graph.output("y", block.y);
    if (map) graph.output("attention", *block.attention);
    std::string kernels;
    for (const auto& k : vkattn::Executor(ctx, graph).kernels())
      if (kernels.find(k) == std::string::npos) kernels += (kernels.empty() ? "" : ", ") + k;
    std::printf("  block %-23s %s\n", map ? "with its map" : "without its map", kernels.c_str());
  }
  return 0;
}

// A model file's graph on input x: a whole network when the file has a layer list, else one
// self-attention block. The first attention map is returned for --attention.
struct ModelTensors {
  vkattn::TensorId y;
  std::optional<vkattn::TensorId> attention;
};

ModelTensors add_model(vkattn::Graph& graph, vkattn::TensorId x, const vkattn::SafeTensors& file,
                       const std::string& prefix, bool attention_map) {
  if (vkattn::Network::describes(file)) {
    const auto out = vkattn::Network::from_safetensors(file).build(graph, x, attention_map);
    if (out.attention.empty()) return {out.output, std::nullopt};
    return {out.output, out.attention.front().second};
  }
  const auto block = vkattn::add_self_attention(graph, x, vkattn::SelfAttentionWeights::from_safetensors(file, prefix),
                                                "", attention_map);
  return {block.y, block.attention};
}

// "NAME=PATH" when NAME is one of `names`; otherwise the whole text is a path, for the first name.
// Each name at most once.
std::vector<std::pair<std::string, std::string>> named_paths(const std::vector<std::string>& args,
                                                             const std::vector<std::string>& names, const char* option) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& arg : args) {
    const size_t eq = arg.find('=');
    std::pair<std::string, std::string> named{names.front(), arg};
    if (eq != std::string::npos && std::find(names.begin(), names.end(), arg.substr(0, eq)) != names.end())
      named = {arg.substr(0, eq), arg.substr(eq + 1)};
    for (const auto& [name, path] : out)
      if (name == named.first)
        throw vkattn::Error(std::string(option) + " gives '" + name + "' twice; the model's are: " +
                            [&] {
                              std::string all;
                              for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
                              return all;
                            }() + ".");
    out.push_back(named);
  }
  return out;
}

int run(const Options& o) {
  const bool with_map = !o.attention.empty();
  const auto file = vkattn::load_model(o.model);
  std::optional<vkattn::Network> net;
  if (vkattn::Network::describes(file)) net = vkattn::Network::from_safetensors(file);
  std::vector<std::string> input_names = {"x"}, output_names = {"y"};
  if (net) {
    input_names.clear();
    for (const auto& [name, shape] : net->inputs()) input_names.push_back(name);
    output_names = net->output_names();
  }
  vkattn::Graph graph;
  std::map<std::string, vkattn::HostTensor> inputs;
  std::map<std::string, vkattn::TensorId> input_ids;
  // A network of fixed shapes (an ONNX model's) reads and writes whole arrays: one batch item.
  const bool implicit = net && net->implicit_batch();
  for (const auto& [name, path] : named_paths(o.inputs, input_names, "--input")) {
    inputs[name] = vkattn::load_npy(path);
    if (implicit) inputs[name].shape.insert(inputs[name].shape.begin(), 1);
    if (!net && inputs[name].shape.size() != 4)
      throw vkattn::Error("The input must be a (B, C, H, W) array, but '" + path + "' has shape " +
                          vkattn::to_string(inputs[name].shape) + ".");
    input_ids[name] = graph.input(name, inputs[name].shape);
  }
  for (const std::string& name : input_names)
    if (!inputs.count(name)) throw vkattn::Error("'" + o.model + "' needs its input '" + name + "': give --input " + name + "=X.npy.");
  const auto outputs = named_paths(o.outputs, output_names, "--output");
  const std::string map_output = "vkattn.attention_map";  // a graph output no network value can be called
  std::optional<vkattn::TensorId> map;
  if (net) {
    const vkattn::NetworkTensors out = net->build(graph, input_ids, with_map);
    const std::map<std::string, vkattn::TensorId> made(out.outputs.begin(), out.outputs.end());
    for (const auto& [name, path] : outputs) graph.output(name, made.at(name));
    if (!out.attention.empty()) map = out.attention.front().second;
  } else {
    const auto block = vkattn::add_self_attention(graph, input_ids.at("x"),
                                                  vkattn::SelfAttentionWeights::from_safetensors(file, o.prefix), "", with_map);
    graph.output("y", block.y);
    map = block.attention;
  }
  if (with_map) {
    if (!map) throw vkattn::Error("'" + file.source + "' has no self-attention layer, so --attention has no map to write.");
    graph.output(map_output, *map);
  }
  vkattn::Context ctx = open_context(o);
  vkattn::ExecutorOptions options;
  options.precision = o.precision;
  vkattn::Executor exec(ctx, graph, options);
  for (const auto& [name, tensor] : inputs) exec.set_input(name, tensor);
  exec.run();
  // Streamed from the mapped output buffers: a map at N = 16384 is 1 GiB per batch item. Every
  // file is committed only once all are written, so a failure leaves none of them replaced.
  auto write = [&](const std::string& name, vkattn::OutputFile& out) {
    vkattn::Shape shape = graph.shape(graph.outputs().at(name));
    if (implicit && shape.size() > 1) shape.erase(shape.begin());
    vkattn::write_npy(out, shape, [&](uint64_t first, uint64_t count, float* dst) {
      exec.read_output(name, first, count, dst);
    });
    return vkattn::to_string(shape);
  };
  std::vector<std::unique_ptr<vkattn::OutputFile>> files;
  std::vector<std::string> lines;
  for (const auto& [name, path] : outputs) {
    files.push_back(std::make_unique<vkattn::OutputFile>(path));
    const std::string shape = write(name, *files.back());
    lines.push_back((net ? "output '" + name + "' " : "output ") + shape + " written to " + path);
  }
  if (with_map) {
    files.push_back(std::make_unique<vkattn::OutputFile>(o.attention));
    lines.push_back("attention map " + write(map_output, *files.back()) + " written to " + o.attention);
  }
  for (auto& f : files) f->commit();
  // Status lines go to stderr: stdout may be the output itself ("--output -").
  for (size_t i = 0; i < lines.size(); ++i)
    std::fprintf(stderr, "%s%s\n", i ? "" : (ctx.device().name + ": ").c_str(), lines[i].c_str());
  return 0;
}

int bench(const Options& o) {
  const int iterations = static_cast<int>(o.iterations);
  std::optional<vkattn::SafeTensors> file;
  if (!o.model.empty()) file = vkattn::load_model(o.model);
  // A network file carries its input (C, H, W); a lone block or random weights need --shape.
  std::vector<int64_t> shape;
  if (!o.shape.empty()) {
    shape = parse_shape(o.shape);
    if (shape.size() != 4) throw vkattn::Error("--shape must be B,C,H,W.");
  } else if (file && vkattn::Network::describes(*file)) {
    shape = vkattn::Network::from_safetensors(*file).input_shape();
    shape.insert(shape.begin(), static_cast<int64_t>(o.batch ? o.batch : 1));
  } else {
    throw vkattn::Error(std::string("'vkattn bench' needs --shape B,C,H,W") +
                        (file ? ": '" + o.model + "' is a lone block, which does not say its input size." : "."));
  }
  if (o.batch && !o.shape.empty()) throw vkattn::Error("--batch goes with a network file's own shape; --shape gives B itself.");
  vkattn::Graph graph;
  const auto x_id = graph.input("x", shape);
  std::string model = "self-attention block, random weights, Cq " + std::to_string(std::max<int64_t>(1, shape[1] / 8));
  if (file) {
    graph.output("y", add_model(graph, x_id, *file, "auto", false).y);
    model = o.model;
  } else {
    graph.output("y", vkattn::add_self_attention(graph, x_id, random_weights(shape[1])).y);
  }
  vkattn::Context ctx = open_context(o);
  vkattn::ExecutorOptions options;
  options.timestamps = true;
  options.precision = o.precision;
  vkattn::Executor exec(ctx, graph, options);
  vkattn::HostTensor x{shape, std::vector<float>(vkattn::element_count(shape))};
  std::mt19937 rng(7);
  std::normal_distribution<float> n01;
  for (float& v : x.data) v = n01(rng);
  exec.set_input("x", x);
  exec.run();  // warm-up: first-use costs (pipeline compilation in the driver, page faults)

  std::vector<std::vector<vkattn::NodeTiming>> runs;
  std::vector<double> wall_ms;
  for (int i = 0; i < iterations; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    exec.run();
    wall_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    runs.push_back(exec.timings());
  }
  const nlohmann::ordered_json breakdown = bench_breakdown(runs, wall_ms);
  const vkattn::FmaPeak peak = vkattn::measure_fma_peak(ctx);
  const double pass_gflops = breakdown["gflops"].get<double>();
  const auto& d = ctx.device();
  const auto& plan = exec.memory_plan();
  if (o.json) {
    nlohmann::ordered_json out = {{"device", d.name}, {"driver", d.driver_name + " " + d.driver_info}, {"profile", d.profile},
                                  {"model", model}, {"shape", shape}, {"precision", vkattn::to_string(o.precision)},
                                  {"iterations", iterations}};
    out.update(breakdown);
    out["fma_peak"] = {{"gflops", peak.gflops}, {"ms", peak.ms}, {"flops", peak.flops}};
    out["memory"] = {{"intermediate_bytes", plan.intermediate_bytes}, {"weight_bytes", plan.weight_bytes},
                     {"io_bytes", plan.io_bytes}, {"dispatches", plan.dispatches}, {"barriers", plan.barriers}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("device: %s (%s %s), %s kernels\n", d.name.c_str(), d.driver_name.c_str(), d.driver_info.c_str(),
              d.profile.c_str());
  std::printf("model: %s\nshape: B=%lld C=%lld H=%lld W=%lld (N=%lld), %s, %d iterations, GPU times are medians\n",
              model.c_str(), (long long)shape[0], (long long)shape[1], (long long)shape[2], (long long)shape[3],
              (long long)(shape[2] * shape[3]), vkattn::to_string(o.precision), iterations);
  std::printf("memory: intermediates %s (%s without sharing), weights %s, inputs/outputs %s; %u dispatches, %u barriers\n",
              kib(plan.intermediate_bytes).c_str(), kib(plan.unshared_bytes).c_str(), kib(plan.weight_bytes).c_str(),
              kib(plan.io_bytes).c_str(), plan.dispatches, plan.barriers);
  std::printf("%s", bench_breakdown_text(breakdown).c_str());
  const auto& wall = breakdown["wall_ms"];
  std::printf("\nwall time per forward pass (submit + wait): %.3f ms", wall["median"].get<double>());
  if (pass_gflops > 0) std::printf(", %.2f GFLOP/s", pass_gflops);
  std::printf(" (median; min %.3f, max %.3f)\n", wall["min"].get<double>(), wall["max"].get<double>());
  std::printf("the device's float32 multiply-add peak (shaders/fma_peak.comp, nothing but multiply-adds): %.1f GFLOP/s",
              peak.gflops);
  if (pass_gflops > 0) std::printf("; this pass reaches %.0f %% of it", 100 * pass_gflops / peak.gflops);
  std::printf("\n");
  return 0;
}

int conformance(const Options& o) {
  vkattn::conformance::Options options;
  options.quick = o.quick;
  options.filter = o.filter;
  options.seed = o.seed;
  options.precision = o.precision;
  vkattn::Context ctx = open_context(o);
  const auto& d = ctx.device();
  std::printf("vkattn conformance on %s (%s %s, Vulkan %s, subgroup size %u), %s kernels, %s matrix, %s\n\n",
              d.name.c_str(), d.driver_name.c_str(), d.driver_info.c_str(), vkattn::version_string(d.api_version).c_str(),
              d.subgroup_size, d.profile.c_str(), options.quick ? "quick" : "full", vkattn::to_string(o.precision));
  std::printf("  %-66s %10s %10s %7s  %s\n", "case", "max abs", "rel error", "bound", "result");
  options.on_result = [](const vkattn::conformance::Result& r) {
    if (r.status == vkattn::conformance::Status::Skipped)
      std::printf("  %-66s %10s %10s %7s  skip: %s\n", r.name.c_str(), "", "", "", r.reason.c_str());
    else
      std::printf("  %-66s %10.2e %10.2e %7.0e  %s%s%s\n", r.name.c_str(), r.max_abs, r.relative, r.bound,
                  vkattn::conformance::to_string(r.status), r.reason.empty() ? "" : ": ", r.reason.c_str());
    std::fflush(stdout);
  };
  const auto report = vkattn::conformance::run(ctx, options);
  if (!options.filter.empty() && report.passed + report.failed + report.skipped == 0)
    throw vkattn::Error("--filter '" + options.filter + "' matches no conformance case.");
  if (!o.report.empty()) vkattn::write_output_file(o.report, vkattn::conformance::to_json(report));
  if (!o.markdown.empty()) vkattn::write_output_file(o.markdown, vkattn::conformance::to_markdown(report));
  std::printf("\nseed %llu\n%d passed, %d failed, %d skipped\n", (unsigned long long)report.seed, report.passed,
              report.failed, report.skipped);
  return report.failed > 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("vkattn: run self-attention vision models on any Vulkan GPU.", "vkattn");
  app.set_version_flag("--version", version_line("vkattn"));
  app.require_subcommand(1);
  app.footer(kFooter);
  Options o;
  const auto device = [&](CLI::App* command) {
    command->add_option("--device", o.device, "A device index or part of its name");
  };
  const auto precision = [&](CLI::App* command) {
    add_precision_option(command, o.precision, ", computed in float32 (needs storageBuffer16BitAccess)");
  };

  CLI::App* info_command = app.add_subcommand(
      "info", "Vulkan devices, the one vkattn picks, its limits and kernels; with --model, what the model holds.");
  info_command->add_option("--model", o.model, "M.safetensors: print its inputs, outputs and nodes instead");
  device(info_command);

  CLI::App* run_command = app.add_subcommand(
      "run",
      "Runs the model in M on X (B, C, H, W) and writes its output. M is either a whole network (a "
      "layer list in its metadata, as vkattn.export in Python writes) or one SAGAN self-attention "
      "block (y is then (B, C, H, W)).");
  run_command->add_option("--model", o.model, "M.safetensors")->required();
  run_command->add_option("--input", o.inputs,
                          "X.npy, float32 (B, C, H, W) for a block; NAME=X.npy for a network's input NAME "
                          "(repeat for each; a plain path is the first input)")
      ->required()
      ->allow_extra_args(false);
  run_command->add_option("--output", o.outputs,
                          "Y.npy to write ('-': standard output); NAME=Y.npy for a network's named output "
                          "(repeat for several; a plain path is the first output)")
      ->required()
      ->allow_extra_args(false);
  run_command->add_option("--attention", o.attention,
                          "A.npy ('-': standard output): also write the attention map (B, N, N), N = H*W at the block (a network's "
                          "first self-attention layer)");
  run_command->add_option("--prefix", o.prefix, "A lone block's tensor-name prefix (default: found in the file)");
  device(run_command);
  precision(run_command);

  CLI::App* bench_command = app.add_subcommand(
      "bench",
      "Where a forward pass's time goes (timestamp queries, medians): per graph node and per kernel the "
      "GPU time, GFLOP/s and GB/s, the barriers and small dispatches, and the wall time per forward pass "
      "(median, min and max), and the device's float32 multiply-add peak, measured, to read them against. Without "
      "--model: a block with random weights, Cq = max(1, C/8).");
  bench_command->add_option("--model", o.model, "M.safetensors: a network or a lone block");
  bench_command->add_option("--shape", o.shape, "B,C,H,W (a network file gives C,H,W itself)");
  bench_command->add_option("--batch", o.batch, "B for a network file's own shape (default 1)")
      ->check(whole_number(1, 1 << 20));
  bench_command->add_option("--iterations", o.iterations, "Forward passes timed (default 10)")
      ->check(whole_number(1, 100000));
  bench_command->add_flag("--json", o.json,
                          "Print one JSON object: wall_ms {min, median, max}, gflops, time {dispatch_ms, barrier_ms, "
                          "small_dispatches, ...}, nodes [{name, kernel, gpu_ms, barrier_ms, gflops, gbytes_per_s, ...}], "
                          "kernels [{kernel, nodes, gpu_ms, share, ...}], memory, fma_peak {gflops, ms, flops}: the device's "
                          "float32 multiply-add peak, measured");
  device(bench_command);
  precision(bench_command);

  CLI::App* conformance_command = app.add_subcommand(
      "conformance",
      "Every kernel and the whole block over a matrix of shapes, each against a float64 CPU reference and "
      "run twice (bit-identical). Exits 1 if any case failed; cases the device cannot hold are skipped.");
  conformance_command->add_flag("--quick", o.quick, "A smaller matrix");
  conformance_command->add_option("--filter", o.filter, "Only cases whose name contains TEXT");
  conformance_command->add_option("--seed", o.seed, "Random inputs from this seed (a report prints its seed)")
      ->check(whole_number(0, UINT64_MAX));
  conformance_command->add_option("--report", o.report, "R.json to write");
  conformance_command->add_option("--markdown", o.markdown, "R.md to write");
  device(conformance_command);
  precision(conformance_command);

  RolloutOptions rollout;
  CLI::App* rollout_command = app.add_subcommand(
      "rollout",
      "Runs a vision transformer on a picture and writes its attention rollout (Abnar & Zuidema 2020) laid over "
      "the picture, next to it: the network's outputs named <layer>.map (vkattn.export(..., "
      "attention_maps=True)), each 0.5 A + 0.5 I with rows renormalised, multiplied over the layers; the class "
      "token's row. Prints the top classes.");
  rollout_command->add_option("--model", rollout.model, "M.safetensors")->required();
  rollout_command->add_option("--image", rollout.image, "A PNG, JPEG, BMP, TGA, GIF or PNM picture")->required();
  rollout_command->add_option("--out", rollout.out, "P.png to write (default: <picture name>_rollout.png)");
  rollout_command->add_option("--mean", rollout.mean, "The picture's values (0 to 1) minus this, per channel or one")
      ->delimiter(',')
      ->check(real_number(-1e6, 1e6));
  rollout_command->add_option("--std", rollout.std, "... divided by this (ImageNet: --mean 0.485,0.456,0.406 --std "
                                                    "0.229,0.224,0.225)")
      ->delimiter(',')
      ->check(real_number(1e-6, 1e6));
  device(rollout_command);

  if (const int rc = parse_command_line(app, argc, argv); rc >= 0) return rc;
  vkattn::remove_temp_outputs_on_signals();
  try {
    int rc = 0;
    if (info_command->parsed()) rc = info(o);
    if (run_command->parsed()) rc = run(o);
    if (bench_command->parsed()) rc = bench(o);
    if (conformance_command->parsed()) rc = conformance(o);
    if (rollout_command->parsed()) {
      if (rollout.out.empty()) rollout.out = std::filesystem::path(rollout.image).stem().string() + "_rollout.png";
      vkattn::Context ctx = open_context(o);
      attention_rollout(rollout, ctx);
    }
    return exit_code(finish_stdout(rc, "vkattn"), "vkattn");
  } catch (const std::exception& e) {
    report_exception(e, "vkattn");
    return 1;
  }
}
