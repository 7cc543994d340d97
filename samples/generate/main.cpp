// generate: the sample generator. A SAGAN trained on Fashion-MNIST (train.py) turns normal noise
// into 28x28 pictures on vkattn, and shows where its self-attention looked for each.
//
//   generate [--count N] [--seed S | --noise Z.npy] [--out DIR] [--columns K] [--zoom Z]
//            [--tensors] [--score [--judge M] [--data DIR]] [--model M] [--device D]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "command_line.h"
#include "exit_status.h"
#include "fashion_mnist.h"
#include "heatmap.h"
#include "judge.h"
#include "noise.h"
#include "output_folder.h"
#include "sample_files.h"
#include "validation.h"
#include "vkattn/vkattn.h"

namespace {

const char* kFooter = R"(Writes DIR/grid.png, the pictures in a grid (--columns per row, default a square), each pixel
shown --zoom times (default 2), and DIR/attention.png, the same grid with the attention heatmap of
each picture laid over it: how much attention each position of the generator's 14x14 self-attention
received, averaged over all positions (computed on the device, ops::attention_heatmap). The noise
is N x 64 standard normal values from --seed (std::mt19937_64 and Box-Muller: the same numbers on
every platform), or the rows of --noise, a float32 .npy of shape (N, 64). --tensors also writes
DIR/pictures.npy (N, 1, 28, 28) in [-1, 1] and DIR/noise.npy. --score judges the pictures with
the sample classifier (as 8-bit PNG pixels): an Inception-Score-like figure exp(E[KL(p(y|x) || p(y))])
and the share of pictures each class wins, beside the same for the 10,000 real test pictures
(--data, default /usr/share/datasets/fashion-mnist).
VKATTN_VALIDATION=1 turns on the Khronos validation layer; any message makes the command fail.
Exit status 2 for a mistake on the command line, 1 for any other failure.)";

struct Options {
  uint64_t count = 16, seed = 0;
  std::string noise, out = ".", device, data = "/usr/share/datasets/fashion-mnist";
  std::string model = sample_file("fashion_gan.safetensors"), judge = sample_file("fashion_sagan.safetensors");
  int64_t columns = 0, zoom = 2, batch = 100;
  bool tensors = false, score = false;
};

int parse(int argc, char** argv, Options& o) {
  CLI::App app("generate: a self-attention GAN trained on Fashion-MNIST, run on vkattn.", "generate");
  app.set_version_flag("--version", version_line("generate"));
  app.footer(kFooter);
  // At most 100,000: both grids are held in memory (about 1 GB each at zoom 2).
  auto* count = app.add_option("--count", o.count, "How many pictures (default 16, at most 100000)")
                    ->check(whole_number(1, 100000));
  app.add_option("--seed", o.seed, "Seed of the noise (default 0)")->check(whole_number(0, UINT64_MAX));
  app.add_option("--noise", o.noise, "The noise as a float32 .npy of shape (N, 64) instead of a seed")
      ->excludes(count);
  app.add_option("--out", o.out, "Folder for the pictures (default: the current one; made if missing)");
  app.add_option("--columns", o.columns, "Pictures per row of the grids (default: a square)")
      ->check(whole_number(1, 10000));
  app.add_option("--zoom", o.zoom, "Screen pixels per picture pixel in the grids (default 2)")->check(whole_number(1, 16));
  app.add_option("--batch", o.batch, "Pictures per forward pass (default 100)")->check(whole_number(1, 65536));
  app.add_flag("--tensors", o.tensors, "Also write DIR/pictures.npy and DIR/noise.npy");
  app.add_flag("--score", o.score, "Judge the pictures, and the real test set, with the sample classifier");
  app.add_option("--judge", o.judge, "--score: the classifier (default " + o.judge + ")");
  app.add_option("--data", o.data, "--score: the Fashion-MNIST IDX files' folder (default " + o.data + ")");
  app.add_option("--model", o.model, "The generator (default: train.py's, " + o.model + ")");
  app.add_option("--device", o.device, "A device index or part of its name");
  return parse_command_line(app, argc, argv);
}

// The generator compiled for batches of one size: noise in, pictures and their heatmaps out.
class Generator {
 public:
  Generator(vkattn::Context& ctx, const vkattn::Network& net, int64_t batch, int64_t zoom) {
    const auto inputs = net.add_inputs(graph_, batch);
    input_ = inputs.begin()->first;
    const auto out = net.build(graph_, inputs, true);
    const vkattn::Shape& picture = graph_.shape(out.output);
    if (picture.size() != 4 || (picture[1] != 1 && picture[1] != 3))
      throw vkattn::Error("The generator's first output must be pictures (B, 1 or 3, H, W), but it is " +
                          vkattn::to_string(picture) + ".");
    graph_.output("picture", out.output);
    if (out.attention.empty()) throw vkattn::Error("The generator has no self-attention layer to draw a heatmap from.");
    const vkattn::TensorId map = out.attention.front().second;
    const int64_t N = graph_.shape(map)[1], side = int64_t(std::lround(std::sqrt(double(N))));
    if (side * side != N)
      throw vkattn::Error("generate draws square attention grids, but the map has " + std::to_string(N) + " positions.");
    graph_.output("heat", vkattn::ops::attention_heatmap(graph_, map, {side, side}, {picture[2] * zoom, picture[3] * zoom}));
    exec_.emplace(ctx, graph_);
  }
  void run(std::vector<float> noise) {
    const vkattn::Shape& shape = graph_.shape(graph_.inputs().at(input_));
    exec_->set_input(input_, {shape, std::move(noise)});
    exec_->run();
  }
  vkattn::HostTensor output(const std::string& name) const { return exec_->output(name); }

 private:
  vkattn::Graph graph_;
  std::string input_;
  std::optional<vkattn::Executor> exec_;
};

// Tiles of tile_w x tile_h RGB bytes into a grid of `columns`, black where there is no tile.
std::vector<unsigned char> grid(const std::vector<std::vector<unsigned char>>& tiles, int tile_w, int tile_h,
                                int columns, int& width, int& height) {
  const int rows = int((tiles.size() + columns - 1) / columns);
  width = columns * tile_w, height = rows * tile_h;
  std::vector<unsigned char> out(size_t(width) * height * 3, 0);
  for (size_t t = 0; t < tiles.size(); ++t) {
    const int x0 = int(t % columns) * tile_w, y0 = int(t / columns) * tile_h;
    for (int y = 0; y < tile_h; ++y)
      std::copy_n(&tiles[t][size_t(y) * tile_w * 3], tile_w * 3, &out[(size_t(y0 + y) * width + x0) * 3]);
  }
  return out;
}

// Picture b of (B, C, H, W) in [-1, 1] as RGB in [0, 1], each pixel zoom x zoom times.
std::vector<float> picture_rgb(const vkattn::HostTensor& p, int64_t b, int64_t zoom) {
  const int64_t C = p.shape[1], H = p.shape[2], W = p.shape[3];
  std::vector<float> rgb(size_t(H * zoom) * W * zoom * 3);
  for (int64_t y = 0; y < H * zoom; ++y)
    for (int64_t x = 0; x < W * zoom; ++x)
      for (int64_t k = 0; k < 3; ++k) {
        const float v = p.data[((b * C + (C == 1 ? 0 : k)) * H + y / zoom) * W + x / zoom];
        rgb[(size_t(y) * W * zoom + x) * 3 + k] = std::clamp((v + 1) / 2, 0.f, 1.f);
      }
  return rgb;
}

// The 8-bit grey pixel of a picture value in [-1, 1], as the PNG holds it, back in [0, 1].
float as_png_pixel(float v) { return std::round(std::clamp((v + 1) / 2, 0.f, 1.f) * 255) / 255; }

void print_judgement(const char* what, const Judgement& j, const std::vector<std::string>& labels) {
  std::printf("%-26s %6zu pictures  score %.3f  shares:", what, j.count, j.score);
  for (size_t k = 0; k < j.share.size(); ++k)
    std::printf(" %s %.1f%%", k < labels.size() ? labels[k].c_str() : std::to_string(k).c_str(), 100 * j.share[k]);
  std::printf("\n");
}

int run(const Options& o, vkattn::Context& ctx) {
  const auto net = vkattn::Network::from_safetensors(vkattn::load_safetensors(o.model));
  if (net.inputs().size() != 1 || net.input_shape().size() != 1)
    throw vkattn::Error("The generator '" + o.model + "' must take one noise vector per picture.");
  const int64_t Z = net.input_shape()[0];
  std::vector<float> noise;
  if (!o.noise.empty()) {
    vkattn::HostTensor z = vkattn::load_npy(o.noise);
    if (z.shape.size() != 2 || z.shape[1] != Z || z.shape[0] < 1 || z.shape[0] > 100000)
      throw vkattn::Error("The noise '" + o.noise + "' must have shape (N, " + std::to_string(Z) +
                          ") with N from 1 to 100000, but it has " + vkattn::to_string(z.shape) + ".");
    noise = std::move(z.data);
  } else {
    noise = normal_noise(o.seed, o.count, size_t(Z));
  }
  const int64_t count = int64_t(noise.size()) / Z;
  make_output_folder(o.out);

  std::optional<Generator> gen;
  int64_t built = 0;
  vkattn::HostTensor pictures, heats;
  for (int64_t first = 0; first < count; first += o.batch) {
    const int64_t n = std::min(o.batch, count - first);
    if (n != built) gen.emplace(ctx, net, n, o.zoom), built = n;
    gen->run({noise.begin() + first * Z, noise.begin() + (first + n) * Z});
    for (auto [name, all] : {std::pair{"picture", &pictures}, std::pair{"heat", &heats}}) {
      vkattn::HostTensor part = gen->output(name);
      if (all->shape.empty()) all->shape = part.shape, all->shape[0] = 0;
      all->shape[0] += n;
      all->data.insert(all->data.end(), part.data.begin(), part.data.end());
    }
  }

  const int64_t H = pictures.shape[2], W = pictures.shape[3];
  const int tile_w = int(W * o.zoom), tile_h = int(H * o.zoom);
  const int columns = int(o.columns ? o.columns : std::ceil(std::sqrt(double(count))));
  std::vector<std::vector<unsigned char>> plain, overlaid;
  for (int64_t b = 0; b < count; ++b) {
    const std::vector<float> rgb = picture_rgb(pictures, b, o.zoom);
    std::vector<unsigned char> bytes(rgb.size());
    std::transform(rgb.begin(), rgb.end(), bytes.begin(), [](float v) { return (unsigned char)std::lround(v * 255); });
    plain.push_back(std::move(bytes));
    const std::vector<float> heat(heats.data.begin() + b * tile_w * tile_h, heats.data.begin() + (b + 1) * tile_w * tile_h);
    overlaid.push_back(overlay_heatmap(rgb, tile_w, tile_h, heat, tile_h, tile_w));
  }
  const std::string grid_png = (std::filesystem::path(o.out) / "grid.png").string();
  const std::string attention_png = (std::filesystem::path(o.out) / "attention.png").string();
  int width = 0, height = 0;
  const std::vector<unsigned char> pictures_grid = grid(plain, tile_w, tile_h, columns, width, height);
  write_png(grid_png, pictures_grid, width, height);
  const std::vector<unsigned char> attention_grid = grid(overlaid, tile_w, tile_h, columns, width, height);
  write_png(attention_png, attention_grid, width, height);
  std::printf("device: %s; model: %s\n", ctx.device().name.c_str(), o.model.c_str());
  std::printf("wrote %s and %s (%lld pictures, %d per row)\n", grid_png.c_str(), attention_png.c_str(),
              (long long)count, columns);
  if (o.tensors) {
    vkattn::save_npy((std::filesystem::path(o.out) / "pictures.npy").string(), pictures);
    vkattn::save_npy((std::filesystem::path(o.out) / "noise.npy").string(), {{count, Z}, noise});
  }
  if (o.score) {
    if (H != 28 || W != 28 || pictures.shape[1] != 1)
      throw vkattn::Error("--score judges 28x28 grey pictures, as the sample classifier takes them.");
    Judge judge(ctx, o.judge, 250);
    std::vector<float> pixels(pictures.data.size());
    std::transform(pictures.data.begin(), pictures.data.end(), pixels.begin(), as_png_pixel);
    print_judgement("generated", judge.judge(pixels), judge.labels());
    const LabelledImages real = load_fashion_mnist_test(o.data);
    print_judgement("real test pictures", judge.judge(real.pixels), judge.labels());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (const int rc = parse(argc, argv, o); rc >= 0) return rc;
  vkattn::remove_temp_outputs_on_signals();
  try {
    vkattn::Context ctx = vkattn::Context::create(sample_context_options(o.device, "generate"));
    const int rc = run(o, ctx);
    return exit_code(finish_stdout(rc, "generate"), "generate");
  } catch (const std::exception& e) {
    report_exception(e, "generate");
    return 1;
  }
}
