#include "rollout.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include <stb_image.h>
#include <stb_image_resize.h>

#include "heatmap.h"
#include "ranking.h"

namespace {

std::string ends(const std::string& s) { return s.size() >= 4 ? s.substr(s.size() - 4) : s; }

// The picture as the network's input (C, H, W): decoded, resized (bilinear family, stb), values in
// [0, 1]; returns it channel-interleaved (H, W, C).
std::vector<float> read_picture(const std::string& path, int channels, int width, int height) {
  int w = 0, h = 0, n = 0;
  std::unique_ptr<unsigned char, void (*)(void*)> pixels(stbi_load(path.c_str(), &w, &h, &n, channels), stbi_image_free);
  if (!pixels)
    throw vkattn::Error("'" + path + "' could not be read as a picture (" + std::string(stbi_failure_reason()) + ").");
  std::vector<float> in(size_t(w) * h * channels), out(size_t(width) * height * channels);
  for (size_t i = 0; i < in.size(); ++i) in[i] = pixels.get()[i] / 255.f;
  if (!stbir_resize_float(in.data(), w, h, 0, out.data(), width, height, 0, channels))
    throw vkattn::Error("'" + path + "' could not be resized to " + std::to_string(width) + "x" + std::to_string(height) + ".");
  for (float& v : out) v = std::clamp(v, 0.f, 1.f);  // the resampling filter overshoots at edges
  return out;
}

// A patch grid of `tokens` cells with the picture's aspect (gh * W == gw * H), or {0, 0}.
std::pair<int, int> grid_of(size_t tokens, int width, int height) {
  for (size_t gh = 1; gh <= tokens; ++gh)
    if (tokens % gh == 0 && gh * size_t(width) == (tokens / gh) * size_t(height)) return {int(gh), int(tokens / gh)};
  return {0, 0};
}

}  // namespace

std::vector<double> rollout_matrix(const std::vector<std::vector<float>>& maps, size_t N) {
  std::vector<double> r(N * N, 0.0), a(N * N), next(N * N);
  for (size_t i = 0; i < N; ++i) r[i * N + i] = 1.0;
  for (const auto& map : maps) {
    for (size_t i = 0; i < N; ++i) {  // 0.5 A + 0.5 I, each row renormalised
      double sum = 0;
      for (size_t j = 0; j < N; ++j) sum += a[i * N + j] = 0.5 * map[i * N + j] + (i == j ? 0.5 : 0.0);
      for (size_t j = 0; j < N; ++j) a[i * N + j] /= sum;
    }
    for (size_t i = 0; i < N; ++i)  // this layer after the ones before it: A~ R
      for (size_t j = 0; j < N; ++j) {
        double acc = 0;
        for (size_t k = 0; k < N; ++k) acc += a[i * N + k] * r[k * N + j];
        next[i * N + j] = acc;
      }
    r.swap(next);
  }
  return r;
}

void attention_rollout(const RolloutOptions& o, vkattn::Context& ctx) {
  const auto file = vkattn::load_model(o.model);
  if (!vkattn::Network::describes(file))
    throw vkattn::Error("'" + o.model + "' is a lone block, not a network with attention maps to roll out.");
  const vkattn::Network net = vkattn::Network::from_safetensors(file);
  if (net.inputs().size() != 1)
    throw vkattn::Error("'" + o.model + "' takes " + std::to_string(net.inputs().size()) +
                        " inputs; rollout runs networks with one picture input.");
  const auto& [input, item] = net.inputs().front();
  if (item.size() != 3 || (item[0] != 1 && item[0] != 3))
    throw vkattn::Error("'" + o.model + "' takes " + vkattn::to_string(item) +
                        ", not a picture (1 or 3 channels, height, width).");
  const int C = int(item[0]), H = int(item[1]), W = int(item[2]);
  std::vector<std::string> map_names;
  for (const std::string& name : net.output_names())
    if (name.size() > 4 && ends(name) == ".map") map_names.push_back(name);
  if (map_names.empty())
    throw vkattn::Error("'" + o.model + "' has no attention maps among its outputs; export it with "
                        "vkattn.export(..., attention_maps=True).");
  for (const auto* v : {&o.mean, &o.std})
    if (v->size() != 1 && v->size() != size_t(C))
      throw vkattn::Error("--mean and --std take one value or one per channel (" + std::to_string(C) + ").");
  for (float s : o.std)
    if (!(s > 0.f)) throw vkattn::Error("--std must be positive.");

  const std::vector<float> picture = read_picture(o.image, C, W, H);
  vkattn::HostTensor x{{1, C, H, W}, std::vector<float>(size_t(C) * H * W)};
  for (int c = 0; c < C; ++c)
    for (int p = 0; p < H * W; ++p) {
      const float mean = o.mean[o.mean.size() == 1 ? 0 : c], std = o.std[o.std.size() == 1 ? 0 : c];
      x.data[size_t(c) * H * W + p] = (picture[size_t(p) * C + c] - mean) / std;
    }

  vkattn::Graph graph;
  const vkattn::TensorId x_id = graph.input(input, x.shape);
  const vkattn::NetworkTensors made = net.build(graph, {{input, x_id}});
  const std::map<std::string, vkattn::TensorId> outputs(made.outputs.begin(), made.outputs.end());
  const std::string first = net.output_names().front();
  graph.output(first, outputs.at(first));
  for (const std::string& name : map_names) graph.output(name, outputs.at(name));
  vkattn::Executor exec(ctx, graph);
  exec.set_input(input, x);
  exec.run();

  std::vector<std::vector<float>> maps;
  size_t N = 0;
  for (const std::string& name : map_names) {
    vkattn::HostTensor m = exec.output(name);
    if (m.shape.size() != 3 || m.shape[1] != m.shape[2] || (N && size_t(m.shape[1]) != N))
      throw vkattn::Error("'" + o.model + "': the map '" + name + "' is " + vkattn::to_string(m.shape) +
                          "; rollout takes (1, N, N) maps of one N.");
    N = size_t(m.shape[1]);
    maps.push_back(std::move(m.data));
  }
  const std::vector<double> r = rollout_matrix(maps, N);
  // The class token's row over the other tokens, or without one the mean row over all of them.
  std::vector<float> heat;
  auto [gh, gw] = grid_of(N - 1, W, H);
  if (gh) {
    for (size_t j = 1; j < N; ++j) heat.push_back(float(r[j]));
  } else {
    std::tie(gh, gw) = grid_of(N, W, H);
    if (!gh)
      throw vkattn::Error("'" + o.model + "': its " + std::to_string(N) + " tokens are no patch grid of the " +
                          std::to_string(H) + "x" + std::to_string(W) + " input, with or without a class token.");
    for (size_t j = 0; j < N; ++j) {
      double mean = 0;
      for (size_t i = 0; i < N; ++i) mean += r[i * N + j] / double(N);
      heat.push_back(float(mean));
    }
  }

  std::vector<float> rgb(size_t(W) * H * 3);
  for (size_t p = 0; p < size_t(W) * H; ++p)
    for (int c = 0; c < 3; ++c) rgb[p * 3 + c] = picture[p * C + (C == 3 ? c : 0)];
  const auto right = overlay_heatmap(rgb, W, H, heat, gh, gw);
  std::vector<unsigned char> both;
  for (int y = 0; y < H; ++y) {
    for (int p = 0; p < W * 3; ++p) both.push_back(static_cast<unsigned char>(std::lround(255 * rgb[size_t(y) * W * 3 + p])));
    both.insert(both.end(), right.begin() + size_t(y) * W * 3, right.begin() + size_t(y + 1) * W * 3);
  }
  write_png(o.out, both, 2 * W, H);

  const vkattn::HostTensor logits = exec.output(first);
  std::printf("%s: %s\n", ctx.device().name.c_str(), o.image.c_str());
  if (logits.shape.size() == 2 && logits.shape[1] >= 2) {
    const Ranked ranked = rank_classes(logits.data.data(), size_t(logits.shape[1]));
    for (size_t k = 0; k < std::min<size_t>(3, ranked.order.size()); ++k) {
      const size_t c = ranked.order[k];
      const std::string label = c < net.labels().size() ? net.labels()[c] : "class " + std::to_string(c);
      std::printf("  %5.1f%%  %s\n", 100 * ranked.probability[c], label.c_str());
    }
  }
  std::printf("  rollout of %zu attention maps over a %dx%d patch grid%s: %s (left: the %dx%d input; right: "
              "the rollout laid over it)\n",
              maps.size(), gh, gw, size_t(gh) * gw == N ? " (no class token: the mean row)" : " (the class token's row)",
              o.out.c_str(), W, H);
}
