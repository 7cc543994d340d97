// classify: the sample classifier. A self-attention CNN trained on Fashion-MNIST (train.py),
// run end to end on vkattn.
//
//   classify IMAGE... [--model M] [--out DIR] [--device D] [--crop [--threshold T]]
//   classify --eval [--model M] [--data DIR] [--batch N] [--min-accuracy A] [--min-agreement G]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "output_folder.h"
#include "command_line.h"
#include "exit_status.h"
#include "fashion_mnist.h"
#include "heatmap.h"
#include "image.h"
#include "ranking.h"
#include "sample_files.h"
#include "validation.h"
#include "vkattn/vkattn.h"

namespace {

const char* kFooter = R"(Pictures: PNG, JPEG, BMP, TGA, GIF, PSD, HDR, PIC or PNM; any size, colour or grey. For each, the
top-3 classes are printed and DIR/<name>_attention.png is written: the model's 28x28 input,
upscaled, beside it with the self-attention heatmap laid over it. --crop adds hard attention: the
smallest box of heatmap cells that receive at least T (--threshold, default 0.2) of the most
attention is drawn on the heatmap, and that box of the input, resized to the input's size
(bilinear, on the device), is written as DIR/<name>_crop.png.
--eval runs the 10,000 test images in batches and prints the accuracy, the agreement with
PyTorch's predictions (<model>.predictions.npy, written by train.py) and images per second; it
exits with 4 if the accuracy or agreement is below the given minimum.
VKATTN_VALIDATION=1 turns on the Khronos validation layer; any message makes the command fail.
Exit status 2 for a mistake on the command line, 1 for any other failure.)";

struct Options {
  std::vector<std::string> images;
  std::string model = sample_file("fashion_sagan.safetensors");
  std::string out = ".", data = "/usr/share/datasets/fashion-mnist", device;
  int batch = 250;
  size_t limit = 0;  // --eval on the first `limit` test images only (0: all)
  bool eval = false, crop = false;
  double threshold = 0.2;
  double min_accuracy = 0, min_agreement = 0;
  vkattn::Precision precision = vkattn::Precision::fp32;
};

// Parses the command line into o; -1 to go on, else the exit status (see parse_command_line).
int parse(int argc, char** argv, Options& o) {
  CLI::App app("classify: a self-attention CNN trained on Fashion-MNIST, run on vkattn.", "classify");
  app.set_version_flag("--version", version_line("classify"));
  app.footer(kFooter);
  app.add_option("images", o.images, "Pictures to classify");
  app.add_option("--model", o.model, "The network (default: train.py's, " + o.model + ")");
  app.add_option("--out", o.out, "Folder for the heatmap pictures (default: the current one)");
  app.add_option("--device", o.device, "A device index or part of its name");
  add_precision_option(&app, o.precision);
  app.add_flag("--crop", o.crop, "Also draw the attention box and write the crop it picks");
  app.add_option("--threshold", o.threshold, "--crop: share of the most attention a cell needs (default 0.2)")
      ->check(real_number(0, 1));
  app.add_flag("--eval", o.eval, "Run the test set instead of pictures");
  app.add_option("--data", o.data, "--eval: the IDX files' folder (default " + o.data + ")");
  app.add_option("--batch", o.batch, "--eval: images per batch (default 250)")->check(whole_number(1, 65536));
  app.add_option("--limit", o.limit, "--eval: the first K test images only")->check(whole_number(1, 1000000000));
  app.add_option("--min-accuracy", o.min_accuracy, "--eval: exit 4 below this accuracy")->check(real_number(0, 1));
  app.add_option("--min-agreement", o.min_agreement, "--eval: exit 4 below this agreement with PyTorch")
      ->check(real_number(0, 1));
  if (const int rc = parse_command_line(app, argc, argv); rc >= 0) return rc;
  if (o.eval && o.crop) {
    std::fprintf(stderr, "classify: --crop is for pictures, not --eval; run 'classify --help'.\n");
    return 2;
  }
  if (o.eval == !o.images.empty()) {
    std::fprintf(stderr, "classify: %s; run 'classify --help'.\n",
                 o.eval ? "--eval takes no image files" : "Give one or more image files, or --eval");
    return 2;
  }
  return -1;
}

// The network, compiled for batches of a fixed size; with a crop threshold also hard attention
// from the first attention layer's map: each item's box and that box of the input at input size.
class Classifier {
 public:
  Classifier(vkattn::Context& ctx, const vkattn::Network& net, int64_t batch, vkattn::Precision precision,
             std::optional<float> crop = std::nullopt) {
    const vkattn::Shape item = net.input_shape();
    const vkattn::TensorId x = graph_.input("x", {batch, item[0], item[1], item[2]});
    const auto out = net.build(graph_, x, true);
    graph_.output("logits", out.output);
    if (out.attention.empty()) throw vkattn::Error("The model has no self-attention layer to draw a heatmap from.");
    const vkattn::TensorId map = out.attention.front().second;
    graph_.output("attention", map);
    if (crop) {
      const int64_t side = grid_side(graph_.shape(map)[1]);
      const auto glimpse = vkattn::ops::attention_crop(graph_, map, {side, side}, x, *crop, {item[1], item[2]});
      graph_.output("boxes", glimpse.boxes);
      graph_.output("crop", glimpse.crop);
    }
    vkattn::ExecutorOptions options;
    options.precision = precision;
    exec_.emplace(ctx, graph_, options);
  }
  // Runs one batch of item-sized images.
  void run(const std::vector<float>& pixels) {
    exec_->set_input("x", {graph_.shape(graph_.inputs().at("x")), pixels});
    exec_->run();
  }
  vkattn::HostTensor logits() const { return exec_->output("logits"); }
  vkattn::HostTensor attention() const { return exec_->output("attention"); }
  vkattn::HostTensor output(const std::string& name) const { return exec_->output(name); }

  // The side of the square grid of N attention positions.
  static int64_t grid_side(int64_t N) {
    const auto side = int64_t(std::lround(std::sqrt(double(N))));
    if (side * side != N)
      throw vkattn::Error("classify draws square attention grids, but the map has " + std::to_string(N) + " positions.");
    return side;
  }

 private:
  vkattn::Graph graph_;
  std::optional<vkattn::Executor> exec_;
};

constexpr int kScale = 10;  // picture pixels per input pixel

// A two-pixel cyan outline of the input-pixel box [top, bottom) x [left, right) on an RGB
// picture of `width` pixels a row, starting at column x0, in picture pixels.
void draw_box(std::vector<unsigned char>& rgb, int width, int x0, const float* box) {
  const int top = int(box[0]) * kScale, left = x0 + int(box[1]) * kScale;
  const int bottom = int(box[2]) * kScale - 1, right = x0 + int(box[3]) * kScale - 1;
  const auto paint = [&](int y, int x) {
    const unsigned char cyan[3] = {0, 255, 255};
    std::copy_n(cyan, 3, &rgb[(size_t(y) * width + x) * 3]);
  };
  for (int t = 0; t < 2; ++t) {
    for (int x = left; x <= right; ++x) paint(top + t, x), paint(bottom - t, x);
    for (int y = top; y <= bottom; ++y) paint(y, left + t), paint(y, right - t);
  }
}

// A grey size x size picture as RGB values, each pixel a 10x10 block.
std::vector<float> blocks(const float* grey, int size) {
  const int side = size * kScale;
  std::vector<float> rgb(size_t(side) * side * 3);
  for (int y = 0; y < side; ++y)
    for (int x = 0; x < side; ++x) std::fill_n(&rgb[(size_t(y) * side + x) * 3], 3, grey[size_t(y / kScale) * size + x / kScale]);
  return rgb;
}

// Values in [0, 1] as bytes.
std::vector<unsigned char> bytes(const std::vector<float>& values) {
  std::vector<unsigned char> out(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    out[i] = static_cast<unsigned char>(std::lround(255 * std::clamp(values[i], 0.f, 1.f)));
  return out;
}

// The input as 10x10-pixel blocks, beside the same with the heatmap laid over it (and the
// attention box drawn on the heatmap when there is one).
void write_side_by_side(const std::string& path, const std::vector<float>& input, int size, const std::vector<float>& heat,
                        int map_side, const float* box) {
  const int side = size * kScale;
  const std::vector<float> picture = blocks(input.data(), size);
  const auto left = bytes(picture), right = overlay_heatmap(picture, side, side, heat, map_side, map_side);
  std::vector<unsigned char> both;
  for (int y = 0; y < side; ++y)
    for (const auto* half : {&left, &right})
      both.insert(both.end(), half->begin() + size_t(y) * side * 3, half->begin() + size_t(y + 1) * side * 3);
  if (box) draw_box(both, 2 * side, side, box);
  write_png(path, both, 2 * side, side);
}

// Each picture's name for its output files: its file name without the extension, and where
// several pictures share one (a/x.png, b/x.png), "-2", "-3", ... after the second and later.
std::vector<std::string> distinct_stems(const std::vector<std::string>& paths) {
  std::vector<std::string> stems;
  std::set<std::string> taken;
  for (const std::string& path : paths) {
    const std::string stem = std::filesystem::path(path).stem().string();
    std::string name = stem;
    for (int k = 2; taken.count(name); ++k) name = stem + "-" + std::to_string(k);
    taken.insert(name);
    stems.push_back(name);
  }
  return stems;
}

std::string label(const vkattn::Network& net, size_t k) {
  return k < net.labels().size() ? net.labels()[k] : "class " + std::to_string(k);
}

int classify_images(const Options& o, vkattn::Context& ctx, const vkattn::Network& net) {
  const vkattn::Shape& item = net.input_shape();
  if (item[0] != 1 || item[1] != item[2])
    throw vkattn::Error("classify takes models with a square grey input, but this one takes " + vkattn::to_string(item) + ".");
  const int size = int(item[1]);
  std::vector<PreparedImage> inputs;
  std::vector<float> batch;
  for (const auto& path : o.images) {
    inputs.push_back(prepare_image(path, size));
    batch.insert(batch.end(), inputs.back().pixels.begin(), inputs.back().pixels.end());
  }
  Classifier model(ctx, net, int64_t(o.images.size()), o.precision, o.crop ? std::optional<float>(float(o.threshold)) : std::nullopt);
  model.run(batch);
  const auto logits = model.logits(), attention = model.attention();
  const auto boxes = o.crop ? model.output("boxes") : vkattn::HostTensor{}, crops = o.crop ? model.output("crop") : vkattn::HostTensor{};
  const size_t classes = logits.shape[1], N = attention.shape[1];
  const int side = int(Classifier::grid_side(int64_t(N)));
  make_output_folder(o.out);
  const std::vector<std::string> stems = distinct_stems(o.images);
  for (size_t b = 0; b < o.images.size(); ++b) {
    const Ranked ranked = rank_classes(&logits.data[b * classes], classes);
    std::printf("%s%s\n", o.images[b].c_str(), inputs[b].inverted ? "  (light background: inverted to match the training data)" : "");
    for (size_t r = 0; r < std::min<size_t>(3, classes); ++r)
      std::printf("  %zu. %-12s %6.2f%%\n", r + 1, label(net, ranked.order[r]).c_str(),
                  100 * ranked.probability[ranked.order[r]]);
    const std::vector<float> heat = mean_attention_received(&attention.data[b * N * N], N);
    const std::string& stem = stems[b];
    const std::string out = (std::filesystem::path(o.out) / (stem + "_attention.png")).string();
    const float* box = o.crop ? &boxes.data[b * 4] : nullptr;
    write_side_by_side(out, inputs[b].pixels, size, heat, side, box);
    std::printf("  heatmap: %s (left: the %dx%d input; right: mean attention each of the %dx%d positions\n"
                "           receives over all %zu query positions, dark = little, yellow = most)\n",
                out.c_str(), size, size, side, side, N);
    if (box) {
      const std::string crop = (std::filesystem::path(o.out) / (stem + "_crop.png")).string();
      write_png(crop, bytes(blocks(&crops.data[b * size * size], size)), size * kScale, size * kScale);
      std::printf("  crop:    %s (rows %d-%d, columns %d-%d of the input: the cells receiving at least %g of\n"
                  "           the most attention, boxed in cyan on the heatmap; resized to %dx%d)\n",
                  crop.c_str(), int(box[0]), int(box[2]) - 1, int(box[1]), int(box[3]) - 1, o.threshold, size, size);
    }
  }
  return 0;
}

int evaluate(const Options& o, vkattn::Context& ctx, const vkattn::Network& net) {
  LabelledImages test = load_fashion_mnist_test(o.data);
  if (o.limit && o.limit < test.count()) {
    test.labels.resize(o.limit);
    test.pixels.resize(o.limit * test.rows * test.cols);
  }
  const vkattn::Shape& item = net.input_shape();
  if (item != vkattn::Shape{1, test.rows, test.cols})
    throw vkattn::Error("The model takes " + vkattn::to_string(item) + " but the test images are " +
                        std::to_string(test.rows) + "x" + std::to_string(test.cols) + ".");
  const size_t per_image = size_t(test.rows) * test.cols, batch = std::min<size_t>(o.batch, test.count());
  Classifier model(ctx, net, int64_t(batch), o.precision);
  std::vector<int> predicted;
  const auto start = std::chrono::steady_clock::now();
  for (size_t first = 0; first < test.count(); first += batch) {
    const size_t n = std::min(batch, test.count() - first);
    std::vector<float> pixels(batch * per_image, 0.f);  // a short last batch is padded with blanks
    std::copy_n(&test.pixels[first * per_image], n * per_image, pixels.begin());
    model.run(pixels);
    const auto logits = model.logits();
    const size_t classes = logits.shape[1];
    for (size_t b = 0; b < n; ++b) {
      const float* row = &logits.data[b * classes];
      predicted.push_back(int(std::max_element(row, row + classes) - row));
    }
    const size_t done = first + n, width = 40, filled = done * width / test.count();
    std::fprintf(stderr, "\r  [%s%s] %zu/%zu", std::string(filled, '#').c_str(), std::string(width - filled, ' ').c_str(),
                 done, test.count());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "\n");
  size_t correct = 0;
  for (size_t i = 0; i < test.count(); ++i) correct += predicted[i] == test.labels[i];
  const double accuracy = double(correct) / test.count();
  std::printf("device: %s, %s\n", ctx.device().name.c_str(), vkattn::to_string(o.precision));
  std::printf("accuracy: %.2f%% (%zu of %zu test images)\n", 100 * accuracy, correct, test.count());

  int rc = accuracy < o.min_accuracy ? 4 : 0;
  const std::string reference = std::filesystem::path(o.model).replace_extension(".predictions.npy").string();
  if (std::filesystem::exists(reference)) {
    const vkattn::HostTensor torch = vkattn::load_npy(reference);
    if (torch.data.size() < test.count())
      throw vkattn::Error("'" + reference + "' holds " + std::to_string(torch.data.size()) + " predictions, fewer than " +
                          std::to_string(test.count()) + ".");
    size_t same = 0;
    for (size_t i = 0; i < test.count(); ++i) same += predicted[i] == int(torch.data[i]);
    const double agreement = double(same) / test.count();
    std::printf("agreement with PyTorch: %.2f%% (%zu of %zu predicted classes equal; %s)\n", 100 * agreement, same,
                test.count(), reference.c_str());
    if (agreement < o.min_agreement) rc = 4;
  } else {
    std::printf("agreement with PyTorch: not measured (no %s; train.py writes it)\n", reference.c_str());
    if (o.min_agreement > 0) rc = 4;
  }
  std::printf("speed: %.1f images/s (batches of %zu; %.2f s for the set, pipelines built beforehand)\n",
              test.count() / seconds, batch, seconds);
  if (rc) std::fprintf(stderr, "classify: below the required accuracy or agreement.\n");
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Options o;
    if (const int rc = parse(argc, argv, o); rc >= 0) return rc;
    vkattn::remove_temp_outputs_on_signals();
    const vkattn::Network net = vkattn::Network::from_safetensors(vkattn::load_model(o.model));
    vkattn::Context ctx = vkattn::Context::create(sample_context_options(o.device, "classify"));
    const int rc = o.eval ? evaluate(o, ctx, net) : classify_images(o, ctx, net);
    return exit_code(finish_stdout(rc, "classify"), "classify");
  } catch (const std::exception& e) {
    report_exception(e, "classify");
    return 1;
  }
}
