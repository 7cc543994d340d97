// F.interpolate's nearest and bilinear modes (shaders/interpolate.comp). Which input rows and
// columns an output reads, and their weights, are PyTorch's float32 arithmetic, where one rounding
// moves a nearest index or turns a 0 weight (0 * inf is NaN) into a tiny one: so the builder
// works them out on the host exactly as torch 1.13's CPU kernels do (UpSample.h,
// UpSampleKernel.cpp) and hands them to the kernel as a small constant, as PyTorch hands its
// kernel indices_weights.
#include <algorithm>
#include <array>
#include <cmath>

#include "interpolate.spv.h"
#include "ops/op.h"
#include "ops/registry.h"

namespace vkattn {
namespace {

using ops::Interpolation;

// One output row's (or column's) source: indices i0, i1 and their weights l0, l1, as a vec4 texel.
using Taps = std::array<float, 4>;

// PyTorch's area_pixel_compute_scale in float: (in - 1) / (out - 1) with align_corners, else
// compute_scales_value: 1 / scale where one is given, else in / out.
float source_scale(int64_t in, int64_t out, std::optional<double> scale, bool align_corners) {
  if (align_corners) return out > 1 ? float(in - 1) / float(out - 1) : 0.f;
  return scale ? float(1.0 / *scale) : float(in) / float(out);
}

// The sources of the `out` positions along an axis of `in`. `nearest_idx`: the channels-last
// kernel's rule for nearest (torch 1.13 takes it for a (B, 1, H, W) tensor, which is channels-last
// contiguous too): a copy when out = in, dst / 2 when out = 2 in, whatever the scale.
std::vector<Taps> axis_taps(int64_t in, int64_t out, Interpolation mode, std::optional<double> scale,
                            bool align_corners, bool nearest_idx) {
  const float s = source_scale(in, out, scale, align_corners);
  std::vector<Taps> taps(out);
  for (int64_t d = 0; d < out; ++d) {
    int64_t i0 = d, i1 = d;
    float l1 = 0.f;
    if (mode == Interpolation::nearest) {
      if (!(nearest_idx && out == in)) i0 = nearest_idx && out == 2 * in ? d >> 1 : int64_t(std::floor(s * float(d)));
      i1 = i0 = std::min(i0, in - 1);
    } else if (out != in) {  // compute_source_index_and_lambda; the same size is a copy
      // In double then rounded once to float, as PyTorch's scale * (dst_index + 0.5) - 0.5.
      float src = align_corners ? s * float(d) : float(double(s) * (double(d) + 0.5) - 0.5);
      if (src < 0.f) src = 0.f;
      // A source past the input only comes of a scale that does not fit the size: the last index.
      i0 = std::min(int64_t(src), in - 1);
      i1 = i0 + (i0 < in - 1 ? 1 : 0);
      l1 = src - float(i0);
    }
    taps[d] = {float(i0), float(i1), 1.f - l1, l1};
  }
  return taps;
}

struct Interpolate final : Op {
  Interpolate(Interpolation mode, Size2 in, Size2 out) : mode_(mode), in_(in), out_(out) {}
  std::string name() const override { return "interpolate"; }

  std::vector<Shape> infer(std::span<const Shape> in) const override {
    const Shape& x = in[0];
    require(x.size() == 4 && x[2] == in_.h && x[3] == in_.w && in[1] == Shape{out_.h + out_.w, 4},
            "Internal error: interpolate's sources were made for another input than " + to_string(x) + ".");
    return {{x[0], x[1], out_.h, out_.w}};
  }

  Dispatch dispatch(const NodeShapes& n) const override {
    const Shape& x = n.in_shape[0];
    const uint64_t out_count = x[1] * out_.h * out_.w;
    // A lane's four outputs are one vec4 when every batch item's outputs are whole vec4s.
    const bool vec4_store = out_count % 4 == 0;
    Dispatch d{name(), interpolate_spv,
               {{n.in[0], 0, uint64_t(x[1] * x[2] * x[3])}, {n.in[1], 0, 0, 0, BindAs::Vec4Texels},
                {n.out[0], 0, out_count, 0, vec4_store ? BindAs::Vec4Storage : BindAs::Storage}},
               {u32(x[1]), u32(x[2]), u32(x[3]), u32(out_.h), u32(out_.w)}};
    d.batches = x[0];
    d.groups_per_batch = ceil_div(out_count, 4 * threads_per_group(interpolate_spv));
    d.specialization = {mode_ == Interpolation::nearest, vec4_store};
    return d;
  }

  double flops(const NodeShapes& n) const override {
    return (mode_ == Interpolation::nearest ? 0.0 : 6.0) * double(element_count(n.out_shape[0]));
  }

 private:
  Interpolation mode_;
  Size2 in_, out_;
};

}  // namespace

TensorId ops::interpolate(Graph& g, TensorId x, Interpolation mode, Size2 size, std::optional<Scale2> scales,
                          bool align_corners) {
  const Shape& s = g.shape(x);
  require(s.size() == 4 && element_count(s) >= 1,
          "interpolate: the input must be (B, C, H, W), but it is " + to_string(s) + ".");
  require(size.h >= 1 && size.w >= 1 && size.h <= (1 << 16) && size.w <= (1 << 16),
          "interpolate: the output size must be from 1 to 65536 a side, but it is " + std::to_string(size.h) + "x" +
              std::to_string(size.w) + ".");
  require(!scales || (std::isfinite(scales->h) && std::isfinite(scales->w) && scales->h > 0 && scales->w > 0),
          "interpolate: the scale factors must be positive numbers.");
  require(mode == Interpolation::bilinear || !align_corners,
          "interpolate: align_corners goes with mode bilinear only, as in PyTorch.");
  const int64_t C = s[1], H = s[2], W = s[3];
  const bool nearest_idx = C == 1;
  std::optional<double> scale_h, scale_w;
  if (scales) {
    scale_h = scales->h;
    scale_w = scales->w;
  }
  auto rows = axis_taps(H, size.h, mode, scale_h, align_corners, nearest_idx);
  const auto columns = axis_taps(W, size.w, mode, scale_w, align_corners, nearest_idx);
  rows.insert(rows.end(), columns.begin(), columns.end());
  HostTensor taps{{size.h + size.w, 4}, {}};
  for (const Taps& t : rows) taps.data.insert(taps.data.end(), t.begin(), t.end());
  const TensorId sources = g.weight("interpolate.sources", std::move(taps));
  return add(g, std::make_shared<Interpolate>(mode, Size2{H, W}, size), {x, sources})[0];
}

// {"type": "interpolate", "mode": "nearest" | "bilinear", "size": [h, w], "scale": [sh, sw] or s,
//  "align_corners": bool}: F.interpolate on (B, C, H, W) as torch 1.13 computes it. mode defaults
// to "nearest" (PyTorch's legacy nearest, not nearest-exact). "size" alone maps by in / out; with
// "scale" too the output is "size" and the mapping 1 / scale (F.interpolate(scale_factor=s));
// "scale" alone makes the size floor(in * scale). align_corners (default false) goes with
// bilinear only: PyTorch refuses it, false too, for nearest. Sizes from 1 to 65536 a side.
void register_interpolate(Registry& r) {
  r.add("interpolate",
        LayerType{{"mode", "size", "scale", "align_corners"}, false, [](const LayerSpec& spec) -> AddLayer {
                    const std::string text = spec.text("mode", "nearest");
                    require(text == "nearest" || text == "bilinear",
                            "its \"mode\" must be \"nearest\" or \"bilinear\", but it is \"" + text + "\".");
                    const Interpolation mode = text == "nearest" ? Interpolation::nearest : Interpolation::bilinear;
                    require(spec.has("size") || spec.has("scale"), "an interpolate layer needs a \"size\" or a \"scale\".");
                    require(mode == Interpolation::bilinear || !spec.has("align_corners"),
                            "its \"align_corners\" goes with mode \"bilinear\" only, as in PyTorch.");
                    const bool align_corners = spec.flag("align_corners", false);
                    const bool sized = spec.has("size");
                    const Size2 size = spec.size2("size", {});
                    std::optional<ops::Scale2> scales;
                    if (spec.has("scale")) {
                      const auto s = spec.reals2("scale", {1, 1});
                      scales = ops::Scale2{s[0], s[1]};
                    }
                    return [=](Graph& g, const std::vector<TensorId>& in, LayerBuild&) {
                      const Shape& x = g.shape(in[0]);
                      Size2 out = size;
                      if (!sized && x.size() == 4)  // F.interpolate's size for a scale_factor
                        out = {int64_t(double(x[2]) * scales->h), int64_t(double(x[3]) * scales->w)};
                      return ops::interpolate(g, in[0], mode, out, scales, align_corners);
                    };
                  }});
}

}  // namespace vkattn
