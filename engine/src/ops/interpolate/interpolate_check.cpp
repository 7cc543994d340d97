// interpolate against float64 values at PyTorch's float32 source positions (torch 1.13's
// UpSample.h and UpSampleKernel.cpp, rewritten here per output element): nearest and bilinear,
// align_corners both ways, upsampling x2 and by non-integer factors, downsampling, the same size
// (bilinear's copy), to and from 1x1, a scale that differs from in / out (F.interpolate's
// scale_factor: 5 -> 8 by 1.7), a single channel (the channels-last nearest rule), batches; NaN
// and infinities, where bilinear's products at weight 0 give NaN as PyTorch's do.
#include <algorithm>
#include <cmath>
#include <optional>

#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

struct Source {
  int64_t i0, i1;
  float l0, l1;
};

// Output position d's source along an axis of `in`, as PyTorch's CPU kernels compute it.
Source source(int64_t d, int64_t in, int64_t out, std::optional<double> scale, bool bilinear, bool align_corners,
              bool single_channel) {
  // compute_scales_value / area_pixel_compute_scale, in float.
  const float ratio = align_corners ? (out > 1 ? float(in - 1) / float(out - 1) : 0.f)
                                    : (scale && *scale > 0 ? float(1.0 / *scale) : float(in) / float(out));
  if (!bilinear) {
    // A (B, 1, H, W) tensor is channels-last contiguous too: cpu_upsample_nearest_channels_last's
    // nearest_idx; else HelperInterpNearest. Both: min(floor(dst * scale), in - 1).
    int64_t i = std::min(int64_t(std::floor(ratio * float(d))), in - 1);
    if (single_channel && out == in) i = d;
    if (single_channel && out == 2 * in) i = d >> 1;
    return {i, i, 1.f, 0.f};
  }
  if (out == in) return {d, d, 1.f, 0.f};  // compute_source_index_and_lambda's copy
  float real = align_corners ? ratio * float(d) : float(ratio * (d + 0.5) - 0.5);
  if (!align_corners && real < 0) real = 0;
  const int64_t i0 = int64_t(real), i1 = i0 + (i0 < in - 1 ? 1 : 0);
  const float l1 = real - float(i0);
  return {i0, i1, 1.f - l1, l1};
}

struct Case {
  bool bilinear, align_corners;
  int64_t oh, ow;
  std::optional<double> sh, sw;
};

std::vector<double> reference(const HostTensor& x, const Case& k) {
  const int64_t C = x.shape[1], H = x.shape[2], W = x.shape[3], planes = x.shape[0] * C;
  std::vector<double> y(planes * k.oh * k.ow);
  for (int64_t plane = 0; plane < planes; ++plane)
    for (int64_t oy = 0; oy < k.oh; ++oy)
      for (int64_t ox = 0; ox < k.ow; ++ox) {
        const Source r = source(oy, H, k.oh, k.sh, k.bilinear, k.align_corners, C == 1);
        const Source c = source(ox, W, k.ow, k.sw, k.bilinear, k.align_corners, C == 1);
        auto at = [&](int64_t iy, int64_t ix) { return double(x.data[(plane * H + iy) * W + ix]); };
        double v = at(r.i0, c.i0);
        if (k.bilinear) {  // every product, as PyTorch takes them: 0 * inf is NaN
          const double top = at(r.i0, c.i0) * c.l0 + at(r.i0, c.i1) * c.l1;
          const double bottom = at(r.i1, c.i0) * c.l0 + at(r.i1, c.i1) * c.l1;
          v = top * r.l0 + bottom * r.l1;
        }
        y[(plane * k.oh + oy) * k.ow + ox] = v;
      }
  return y;
}

// {"mode": "nearest" | "bilinear", "B", "C", "H", "W", "size": [oh, ow]} and optionally
// "scale": [sh, sw], "align": 1.
Prepared prepare(const Spec& s, Rng& rng) {
  const Shape size = shape(s, "size");
  Case k{s["mode"].get<std::string>() == "bilinear", s.value("align", 0) != 0, size.at(0), size.at(1), {}, {}};
  std::optional<ops::Scale2> scales;
  if (s.contains("scale")) {
    k.sh = s["scale"][0].get<double>(), k.sw = s["scale"][1].get<double>();
    scales = ops::Scale2{*k.sh, *k.sw};
  }
  Prepared p;
  auto x = random(rng, {integer(s, "B"), integer(s, "C"), integer(s, "H"), integer(s, "W")});
  sprinkle(x, special(s), int64_t(x.data.size() / 12 + 1), rng);
  p.graph.output("y", ops::interpolate(p.graph, p.graph.input("x", x.shape),
                                       k.bilinear ? ops::Interpolation::bilinear : ops::Interpolation::nearest,
                                       {k.oh, k.ow}, scales, k.align_corners));
  p.reference = [=] { return Outputs{{"y", reference(x, k)}}; };
  p.inputs = {{"x", std::move(x)}};
  return p;
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  std::vector<Spec> specs;
  const auto add = [&](const char* mode, Shape in, Shape size, int align = 0, std::vector<double> scale = {},
                       const char* kind = "") {
    Spec s{{"mode", mode}, {"B", in[0]}, {"C", in[1]}, {"H", in[2]}, {"W", in[3]}, {"size", size}};
    if (!scale.empty()) s["scale"] = scale;
    if (align) s["align"] = 1;
    if (*kind) s["special"] = kind;
    specs.push_back(s);
  };
  for (const char* mode : {"nearest", "bilinear"})
    for (const int align : {0, 1}) {
      if (align && mode[0] == 'n') continue;  // PyTorch refuses it
      add(mode, {2, 3, 7, 13}, {14, 26}, align);      // x2
      add(mode, {1, 5, 5, 7}, {8, 11}, align);        // non-integer factors up
      add(mode, {3, 2, 13, 17}, {6, 7}, align);       // down, with remainders
      add(mode, {2, 3, 7, 13}, {7, 13}, align);       // the same size
      add(mode, {2, 3, 1, 1}, {3, 4}, align);         // from 1x1
      add(mode, {1, 4, 5, 6}, {1, 1}, align);         // to 1x1
      add(mode, {2, 3, 6, 9}, {6, 18}, align);        // one axis only
      add(mode, {2, 1, 7, 13}, {14, 26}, align);      // one channel (channels-last in PyTorch)
      add(mode, {1, 1, 5, 9}, {8, 4}, align);
      add(mode, {2, 3, 5, 7}, {8, 17}, align, {1.7, 2.5});     // scale_factor, not in / out
      add(mode, {2, 3, 3, 7}, {6, 14}, align, {2.1, 2.1});     // 2x the size, by 2.1
      add(mode, {2, 1, 3, 7}, {6, 14}, align, {2.1, 2.1});     // ... taken as 2 (nearest_idx)
      add(mode, {1, 2, 16, 12}, {5, 4}, align, {1 / 3.0, 0.4}); // down by factors
      if (!o.quick) add(mode, {2, 16, 64, 64}, {128, 128}, align);
      for (const char* kind : {"nan", "inf"}) {
        add(mode, {2, 3, 7, 13}, {14, 26}, align, {}, kind);
        add(mode, {2, 3, 7, 13}, {7, 13}, align, {}, kind);
        add(mode, {1, 3, 9, 8}, {5, 11}, align, {}, kind);
      }
    }
  return specs;
}

}  // namespace

void register_interpolate_check(CheckRegistry& r) { r.add({"interpolate", matrix, prepare}); }

}  // namespace vkattn::conformance
