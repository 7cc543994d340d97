// Hard attention's kernels against float64: column_mean, attention_box and crop_resize alone,
// and the three together from a softmax map as the attention_crop layer runs them. With NaN and
// infinities: a column holding NaN, or +inf and -inf, has a NaN mean; a heatmap holding NaN
// gives the whole image (no cell reaches a NaN limit), as vkattn.nn.attention_boxes does.
#include <algorithm>
#include <cmath>

#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

// (B, R, L) -> the mean of each column, (B, L).
std::vector<double> column_means(const std::vector<double>& x, int64_t B, int64_t R, int64_t L) {
  std::vector<double> y(B * L, 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < R; ++i)
      for (int64_t j = 0; j < L; ++j) y[b * L + j] += x[(b * R + i) * L + j] / double(R);
  return y;
}

// Heatmaps (B, h * w) -> boxes (B, 4) in pixels of an H x W image, as ops::attention_box states.
std::vector<double> boxes_of(const std::vector<double>& r, int64_t B, Size2 grid, Size2 image, double threshold) {
  std::vector<double> out;
  const int64_t cells = grid.h * grid.w;
  for (int64_t b = 0; b < B; ++b) {
    const double peak = max_nan(r.data() + b * cells, r.data() + (b + 1) * cells);
    int64_t r0 = grid.h, r1 = 0, c0 = grid.w, c1 = 0;
    for (int64_t j = 0; j < cells; ++j)
      if (r[b * cells + j] >= threshold * peak) {
        r0 = std::min(r0, j / grid.w), r1 = std::max(r1, j / grid.w);
        c0 = std::min(c0, j % grid.w), c1 = std::max(c1, j % grid.w);
      }
    if (r0 > r1) r0 = 0, r1 = grid.h - 1, c0 = 0, c1 = grid.w - 1;  // no cell passed (NaN): the whole image
    out.insert(out.end(), {double(r0 * image.h / grid.h), double(c0 * image.w / grid.w),
                           double(((r1 + 1) * image.h + grid.h - 1) / grid.h),
                           double(((c1 + 1) * image.w + grid.w - 1) / grid.w)});
  }
  return out;
}

// Each item's box of x (B, C, H, W), clamped to the image, resized bilinearly as
// F.interpolate(align_corners=False) to (B, C, size.h, size.w).
std::vector<double> crops_of(const HostTensor& x, const std::vector<double>& boxes, Size2 size) {
  const int64_t B = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  struct Tap {
    int64_t i0, i1;
    double weight;
  };
  const auto tap = [](int64_t d, int64_t out, double first_at, double end_at, int64_t extent) {
    const int64_t first = std::min<int64_t>(int64_t(std::max(first_at, 0.0)), extent - 1);
    const int64_t end = std::clamp<int64_t>(int64_t(std::max(end_at, 0.0)), first + 1, extent);
    const double at = std::max((d + 0.5) * double(end - first) / double(out) - 0.5, 0.0);
    const int64_t lower = std::min<int64_t>(int64_t(at), end - first - 1);
    return Tap{first + lower, first + std::min(lower + 1, end - first - 1), at - double(lower)};
  };
  std::vector<double> y;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t oy = 0; oy < size.h; ++oy)
        for (int64_t ox = 0; ox < size.w; ++ox) {
          const Tap ty = tap(oy, size.h, boxes[b * 4], boxes[b * 4 + 2], H);
          const Tap tx = tap(ox, size.w, boxes[b * 4 + 1], boxes[b * 4 + 3], W);
          const auto at = [&](int64_t i, int64_t j) { return double(x.data[((b * C + c) * H + i) * W + j]); };
          const double top = (1 - tx.weight) * at(ty.i0, tx.i0) + tx.weight * at(ty.i0, tx.i1);
          const double bottom = (1 - tx.weight) * at(ty.i1, tx.i0) + tx.weight * at(ty.i1, tx.i1);
          y.push_back((1 - ty.weight) * top + ty.weight * bottom);
        }
  return y;
}

// {"B", "R", "L"}
Prepared prepare_column_mean(const Spec& s, Rng& rng) {
  const int64_t B = integer(s, "B"), R = integer(s, "R"), L = integer(s, "L");
  Prepared p;
  auto x = random(rng, {B, R, L}, 0.f, 1.f);
  sprinkle(x, special(s), L / 2 + 1, rng);
  p.graph.output("y", ops::column_mean(p.graph, p.graph.input("x", x.shape)));
  p.reference = [=] { return Outputs{{"y", column_means(widen(x.data), B, R, L)}}; };
  p.inputs = {{"x", std::move(x)}};
  return p;
}

// {"B", "h", "w", "H", "W", "threshold"}, and "signed": heatmap values below zero too.
Prepared prepare_attention_box(const Spec& s, Rng& rng) {
  const int64_t B = integer(s, "B");
  const Size2 grid{integer(s, "h"), integer(s, "w")}, image{integer(s, "H"), integer(s, "W")};
  const double threshold = s.at("threshold").get<double>();
  Prepared p;
  auto r = random(rng, {B, grid.h * grid.w}, s.value("signed", false) ? -1.f : 0.f, 1.f);
  const std::string kind = special(s);
  // Item b of B: NaN: b % 2 = 0 one NaN, b % 4 = 1 all NaN; inf: b % 3 = 0 a +inf, 1 a -inf, 2 all -inf.
  for (int64_t b = 0; b < B && !kind.empty(); ++b) {
    float* item = r.data.data() + b * grid.h * grid.w;
    const int64_t cell = std::uniform_int_distribution<int64_t>(0, grid.h * grid.w - 1)(rng);
    if (kind == "nan" && b % 2 == 0) item[cell] = kNaN;
    if (kind == "nan" && b % 4 == 1) std::fill(item, item + grid.h * grid.w, kNaN);
    if (kind == "inf") item[cell] = b % 3 == 0 ? kInf : -kInf;
    if (kind == "inf" && b % 3 == 2) std::fill(item, item + grid.h * grid.w, -kInf);
  }
  p.graph.output("box", ops::attention_box(p.graph, p.graph.input("r", r.shape), grid, image, float(threshold)));
  p.reference = [=] { return Outputs{{"box", boxes_of(widen(r.data), B, grid, image, float(threshold))}}; };
  p.inputs = {{"r", std::move(r)}};
  return p;
}

// {"B", "C", "H", "W", "Ho", "Wo"}, and "outside": boxes reaching past the image (clamped).
Prepared prepare_crop_resize(const Spec& s, Rng& rng) {
  const int64_t B = integer(s, "B"), C = integer(s, "C"), H = integer(s, "H"), W = integer(s, "W");
  const Size2 size{integer(s, "Ho"), integer(s, "Wo")};
  const bool outside = s.value("outside", false);
  Prepared p;
  auto x = random(rng, {B, C, H, W});
  HostTensor boxes{{B, 4}, {}};
  for (int64_t b = 0; b < B; ++b) {
    const auto span = [&](int64_t extent) {
      const int64_t first = std::uniform_int_distribution<int64_t>(0, extent - 1)(rng);
      const int64_t end = std::uniform_int_distribution<int64_t>(first + 1, extent)(rng);
      return outside ? std::pair<float, float>{float(first - extent), float(end + extent)}
                     : std::pair<float, float>{float(first), float(end)};
    };
    const auto [top, bottom] = span(H);
    const auto [left, right] = span(W);
    boxes.data.insert(boxes.data.end(), {top, left, bottom, right});
  }
  p.graph.output("y", ops::crop_resize(p.graph, p.graph.input("x", x.shape), p.graph.input("boxes", boxes.shape), size));
  p.reference = [=] { return Outputs{{"y", crops_of(x, widen(boxes.data), size)}}; };
  p.inputs = {{"x", std::move(x)}, {"boxes", std::move(boxes)}};
  return p;
}

// {"B", "C", "H", "W", "h", "w", "threshold", "Ho", "Wo"}: a softmax map over the h x w grid
// (random scores, so some positions draw more attention), then the layer's three kernels.
Prepared prepare_attention_crop(const Spec& s, Rng& rng) {
  const int64_t B = integer(s, "B"), C = integer(s, "C");
  const Size2 grid{integer(s, "h"), integer(s, "w")}, image{integer(s, "H"), integer(s, "W")},
      size{integer(s, "Ho"), integer(s, "Wo")};
  const double threshold = s.at("threshold").get<double>();
  const int64_t N = grid.h * grid.w;
  Prepared p;
  auto x = random(rng, {B, C, image.h, image.w});
  HostTensor map = random(rng, {B, N, N}, -4.f, 4.f);
  for (int64_t row = 0; row < B * N; ++row) {
    float* a = map.data.data() + row * N;
    const float peak = *std::max_element(a, a + N);
    double sum = 0;
    for (int64_t j = 0; j < N; ++j) sum += a[j] = std::exp(a[j] - peak);
    for (int64_t j = 0; j < N; ++j) a[j] = drawn(float(a[j] / sum));
  }
  if (special(s) == "nan")  // one NaN in the first item's map: its box is the whole image
    map.data[std::uniform_int_distribution<int64_t>(0, N * N - 1)(rng)] = kNaN;
  Graph& g = p.graph;
  const auto crop = ops::attention_crop(g, g.input("map", map.shape), grid, g.input("x", x.shape), float(threshold), size);
  g.output("boxes", crop.boxes);
  g.output("crop", crop.crop);
  p.reference = [=] {
    const std::vector<double> box = boxes_of(column_means(widen(map.data), B, N, N), B, grid, image, float(threshold));
    return Outputs{{"boxes", box}, {"crop", crops_of(x, box, size)}};
  };
  p.inputs = {{"map", std::move(map)}, {"x", std::move(x)}};
  return p;
}

std::vector<Spec> column_mean_matrix(const MatrixOptions& o) {
  std::vector<Spec> specs = {{{"B", 1}, {"R", 1}, {"L", 1}},
                             {{"B", 3}, {"R", 7}, {"L", 130}},
                             {{"B", 2}, {"R", 196}, {"L", 196}},
                             {{"B", 3}, {"R", 7}, {"L", 130}, {"special", "nan"}},
                             {{"B", 3}, {"R", 7}, {"L", 130}, {"special", "inf"}}};
  if (!o.quick) specs.push_back({{"B", 1}, {"R", 1000}, {"L", 3}});
  return specs;
}

Spec box(int64_t B, int64_t h, int64_t w, int64_t H, int64_t W, double threshold) {
  return {{"B", B}, {"h", h}, {"w", w}, {"H", H}, {"W", W}, {"threshold", threshold}};
}

Spec signed_box(int64_t B, int64_t h, int64_t w, int64_t H, int64_t W, double threshold) {
  Spec s = box(B, h, w, H, W, threshold);
  s["signed"] = true;
  return s;
}

Spec special_box(Spec s, const char* kind) {
  s["special"] = kind;
  return s;
}

std::vector<Spec> attention_box_matrix(const MatrixOptions&) {
  return {box(1, 1, 1, 1, 1, 0.5), box(4, 14, 14, 28, 28, 0.5), box(3, 5, 9, 17, 23, 0.8), box(2, 7, 3, 7, 3, 1.0),
          box(2, 16, 16, 64, 64, 0.0), box(2, 20, 30, 7, 11, 0.3), box(1, 11, 13, 200, 100, 0.9),
          signed_box(3, 6, 6, 12, 12, 0.5), special_box(box(6, 5, 9, 17, 23, 0.8), "nan"),
          special_box(box(6, 5, 9, 17, 23, 0.8), "inf"), special_box(box(6, 5, 9, 17, 23, 0.0), "inf")};
}

Spec crop(int64_t B, int64_t C, int64_t H, int64_t W, int64_t Ho, int64_t Wo, bool outside = false) {
  Spec s = {{"B", B}, {"C", C}, {"H", H}, {"W", W}, {"Ho", Ho}, {"Wo", Wo}};
  if (outside) s["outside"] = true;
  return s;
}

std::vector<Spec> crop_resize_matrix(const MatrixOptions&) {
  return {crop(1, 1, 1, 1, 1, 1), crop(3, 2, 28, 28, 28, 28), crop(2, 3, 17, 23, 5, 9), crop(2, 1, 7, 5, 30, 41),
          crop(3, 2, 9, 13, 6, 7, true)};
}

Spec glimpse(int64_t B, int64_t C, int64_t H, int64_t W, int64_t h, int64_t w, double threshold, int64_t Ho, int64_t Wo) {
  return {{"B", B}, {"C", C}, {"H", H}, {"W", W}, {"h", h}, {"w", w}, {"threshold", threshold}, {"Ho", Ho}, {"Wo", Wo}};
}

std::vector<Spec> attention_crop_matrix(const MatrixOptions&) {
  return {glimpse(1, 1, 1, 1, 1, 1, 0.5, 1, 1), glimpse(3, 1, 28, 28, 14, 14, 0.5, 28, 28),
          glimpse(2, 3, 23, 17, 5, 7, 0.7, 11, 13), glimpse(2, 2, 32, 32, 8, 8, 0.9, 16, 16),
          special_box(glimpse(2, 3, 23, 17, 5, 7, 0.7, 11, 13), "nan")};
}

}  // namespace

void register_attention_crop_check(CheckRegistry& r) {
  r.add({"column_mean", column_mean_matrix, prepare_column_mean});
  r.add({"attention_box", attention_box_matrix, prepare_attention_box});
  r.add({"crop_resize", crop_resize_matrix, prepare_crop_resize});
  r.add({"attention_crop", attention_crop_matrix, prepare_attention_crop});
}

}  // namespace vkattn::conformance
