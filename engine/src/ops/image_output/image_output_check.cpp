// image_output against the host: a graph output written into a device image of every format,
// grey, viridis, RGB and RGBA, one and three layers, values past the formats' ranges, NaN; the
// texels compared with the same run's tensor (image_check.h: float formats exact, 8-bit within
// one unit).
#include <algorithm>
#include <random>
#include <string>

#include "vkattn/error.h"
#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

VkFormat format_of(const std::string& name) {
  if (name == "rgba8") return VK_FORMAT_R8G8B8A8_UNORM;
  if (name == "srgb8") return VK_FORMAT_R8G8B8A8_SRGB;
  if (name == "rgba16f") return VK_FORMAT_R16G16B16A16_SFLOAT;
  if (name == "rgba32f") return VK_FORMAT_R32G32B32A32_SFLOAT;
  if (name == "r32f") return VK_FORMAT_R32_SFLOAT;
  throw Error("An image_output case names an unknown format '" + name + "'.");
}

// {"format", "B", "C", "H", "W"} and optionally "map": "viridis". The output is x * 1, so that a
// kernel writes it; x holds values in [-1.5, 1.5] and a few NaN.
Prepared prepare(const Spec& s, Rng& rng) {
  const Shape shape = {integer(s, "B"), integer(s, "C"), integer(s, "H"), integer(s, "W")};
  HostTensor x = random(rng, shape, -1.5f, 1.5f);
  sprinkle(x, "nan", 7, rng);
  Prepared p;
  const TensorId one = p.graph.weight("one", {{}, {1.f}});
  p.graph.output("y", ops::binary(p.graph, ops::Binary::mul, p.graph.input("x", shape), one));
  ImageOutput out;
  out.format = format_of(s["format"].get<std::string>());
  out.width = uint32_t(shape[3]), out.height = uint32_t(shape[2]), out.layers = uint32_t(shape[0]);
  if (s.value("map", "") == "viridis") out.colour_map = ImageOutput::ColourMap::viridis;
  // Powers of two, so that v * scale + bias rounds once however a kernel computes it; the half
  // format's scale takes values past its largest, 65504; the 8-bit ones clamp at 0 and 1.
  const bool half = out.format == VK_FORMAT_R16G16B16A16_SFLOAT;
  out.scale = half ? 65536.f : 0.5f;
  out.bias = half ? 0.f : 0.5f;
  const float nan_colour[4] = {0.25f, 0.5f, 0.75f, 1.f};
  std::copy(nan_colour, nan_colour + 4, out.nan_colour);
  p.image = ImageCase{"y", out};
  p.reference = [x] { return Outputs{{"y", widen(x.data)}}; };
  p.inputs = {{"x", std::move(x)}};
  p.bound = 0;
  return p;
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  std::vector<Spec> specs;
  for (const char* format : {"rgba8", "srgb8", "rgba16f", "rgba32f", "r32f"})
    for (const int64_t C : {1, 3, 4})
      for (const bool viridis : {false, true}) {
        const bool one_channel = std::string(format) == "r32f";
        if ((viridis && C != 1) || (one_channel && (C != 1 || viridis))) continue;  // refused, not drawn
        for (const int64_t B : {1, 3}) {
          Spec s{{"format", format}, {"B", B}, {"C", C}, {"H", 23}, {"W", 37}};  // several groups, a ragged last
          if (viridis) s["map"] = "viridis";
          specs.push_back(s);
        }
        if (!o.quick) {
          Spec s{{"format", format}, {"B", 2}, {"C", C}, {"H", 300}, {"W", 413}};
          if (viridis) s["map"] = "viridis";
          specs.push_back(s);
        }
      }
  return specs;
}

}  // namespace

void register_image_output_check(CheckRegistry& r) { r.add({"image_output", matrix, prepare}); }

}  // namespace vkattn::conformance
