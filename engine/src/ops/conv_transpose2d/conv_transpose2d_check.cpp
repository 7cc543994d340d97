// conv_transpose2d against float64, computed as PyTorch defines it: every input element scatters
// x times the kernel into the output (the shader gathers instead). Cases: 1x1, 3x3, 5x5 and
// SAGAN's 4x4 (stride 2 padding 1, and stride 1 from a 1x1 input), strides that leave outputs no
// input reaches (bias only), output padding below the stride or below the dilation, dilation
// with and without a common factor with the stride, asymmetric options, depthwise and groups 2
// and 3 with channels that are not multiples of 4, batch 1 and 3; NaN and infinities. With
// "weight": "input" the weight is a graph input, not a constant: the kernel then reads it as it
// comes instead of the builder's packed copy.
#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

struct Options {
  Size2 stride, pad, output_pad, dilation;
  int64_t groups;
};

int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t p, int64_t op, int64_t d) {
  return (in - 1) * s - 2 * p + d * (k - 1) + op + 1;
}

// y[b, g Mg + m, iy sh - ph + ky dh, ix sw - pw + kx dw] += w[c, m, ky, kx] x[b, c, iy, ix] for
// each input channel c of group g = c / (C / groups), starting from the bias.
std::vector<double> reference(const HostTensor& x, const HostTensor& w, const HostTensor& bias, const Options& o) {
  const int64_t B = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t Mg = w.shape[1], KH = w.shape[2], KW = w.shape[3], M = Mg * o.groups, Cg = C / o.groups;
  const int64_t OH = out_size(H, KH, o.stride.h, o.pad.h, o.output_pad.h, o.dilation.h),
                OW = out_size(W, KW, o.stride.w, o.pad.w, o.output_pad.w, o.dilation.w);
  std::vector<double> y(B * M * OH * OW);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t i = 0; i < OH * OW; ++i) y[(b * M + m) * OH * OW + i] = bias.data[m];
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t iy = 0; iy < H; ++iy)
        for (int64_t ix = 0; ix < W; ++ix) {
          const double v = x.data[((b * C + c) * H + iy) * W + ix];
          for (int64_t m = 0; m < Mg; ++m)
            for (int64_t ky = 0; ky < KH; ++ky)
              for (int64_t kx = 0; kx < KW; ++kx) {
                const int64_t oy = iy * o.stride.h - o.pad.h + ky * o.dilation.h,
                              ox = ix * o.stride.w - o.pad.w + kx * o.dilation.w;
                if (oy < 0 || oy >= OH || ox < 0 || ox >= OW) continue;
                y[((b * M + c / Cg * Mg + m) * OH + oy) * OW + ox] += double(w.data[((c * Mg + m) * KH + ky) * KW + kx]) * v;
              }
        }
  return y;
}

Size2 size2(const Spec& s, const char* key, Size2 fallback) {
  if (!s.contains(key)) return fallback;
  const Shape v = shape(s, key);
  return {v.at(0), v.at(1)};
}

// {"B", "C", "H", "W", "M", "k": [kh, kw], "stride": [sh, sw] ([1, 1]), "pad": [ph, pw] ([0, 0]),
//  "out_pad": [oph, opw] ([0, 0]), "dilation": [dh, dw] ([1, 1]), "groups" (1), "weight": "input"}
Prepared prepare(const Spec& s, Rng& rng) {
  const Shape k = shape(s, "k");
  const Options o{size2(s, "stride", {1, 1}), size2(s, "pad", {0, 0}), size2(s, "out_pad", {0, 0}),
                  size2(s, "dilation", {1, 1}), s.contains("groups") ? integer(s, "groups") : 1};
  const int64_t C = integer(s, "C"), M = integer(s, "M");
  Prepared p;
  auto x = random(rng, {integer(s, "B"), C, integer(s, "H"), integer(s, "W")}),
       w = random(rng, {C, M / o.groups, k[0], k[1]}), b = random(rng, {M});
  sprinkle(x, special(s), 3, rng);
  Graph& g = p.graph;
  const bool weight_input = s.value("weight", std::string()) == "input";
  g.output("y", ops::conv_transpose2d(g, g.input("x", x.shape), weight_input ? g.input("w", w.shape) : g.weight("w", w),
                                      g.weight("b", b), o.stride, o.pad, o.output_pad, o.groups, o.dilation));
  p.reference = [=] { return Outputs{{"y", reference(x, w, b, o)}}; };
  p.inputs = {{"x", std::move(x)}};
  if (weight_input) p.inputs.emplace_back("w", w);
  return p;
}

Spec conv(int64_t B, int64_t C, int64_t H, int64_t W, int64_t M, Shape k, Shape stride, Shape pad,
          Shape out_pad = {0, 0}, int64_t groups = 1, Shape dilation = {1, 1}) {
  Spec s = {{"B", B}, {"C", C}, {"H", H}, {"W", W}, {"M", M}, {"k", k}, {"stride", stride}, {"pad", pad}};
  if (out_pad != Shape{0, 0}) s["out_pad"] = out_pad;
  if (groups != 1) s["groups"] = groups;
  if (dilation != Shape{1, 1}) s["dilation"] = dilation;
  return s;
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  std::vector<Spec> specs = {
      conv(1, 1, 1, 1, 1, {1, 1}, {1, 1}, {0, 0}),                  // one element
      conv(3, 5, 7, 6, 3, {1, 1}, {2, 2}, {0, 0}, {1, 1}),          // 1x1 stride 2: odd outputs are bias only
      conv(2, 7, 9, 11, 6, {3, 3}, {1, 1}, {1, 1}),                 // 3x3, same size
      conv(1, 6, 5, 7, 5, {3, 3}, {2, 2}, {1, 1}, {1, 1}),          // the decoder's 2x upsampling
      conv(3, 3, 6, 5, 7, {5, 5}, {2, 2}, {2, 2}, {1, 1}),          // 5x5
      conv(2, 9, 4, 4, 6, {4, 4}, {2, 2}, {1, 1}),                  // SAGAN's generator blocks
      conv(3, 13, 1, 1, 10, {4, 4}, {1, 1}, {0, 0}),                // and its first layer, from 1x1
      conv(1, 4, 8, 8, 3, {4, 4}, {2, 2}, {1, 1}),                  // SAGAN's last layer, to RGB
      conv(2, 5, 5, 6, 37, {3, 3}, {2, 2}, {1, 1}),                 // three runs of output channels, the last partial
      conv(2, 5, 7, 6, 4, {3, 5}, {2, 3}, {1, 2}, {1, 0}),          // asymmetric in every option
      conv(1, 3, 5, 5, 2, {3, 3}, {1, 1}, {2, 2}),                  // padding shrinks the output
      conv(2, 3, 4, 7, 5, {3, 3}, {1, 1}, {1, 0}, {1, 1}, 1, {2, 2}),    // output padding below the dilation
      conv(1, 4, 5, 6, 3, {3, 2}, {2, 3}, {1, 1}, {1, 2}, 1, {2, 1}),    // dilation sharing a factor with the stride
      conv(2, 2, 6, 5, 3, {3, 3}, {3, 2}, {0, 1}, {0, 1}, 1, {2, 3}),    // and none
      conv(3, 7, 6, 5, 7, {3, 3}, {2, 2}, {1, 1}, {1, 1}, 7),       // depthwise
      conv(1, 5, 7, 8, 10, {4, 4}, {2, 2}, {1, 1}, {0, 0}, 5),      // depthwise, two outputs per channel
      conv(2, 6, 5, 6, 10, {3, 3}, {2, 1}, {1, 1}, {1, 0}, 2),      // groups 2, 5 outputs each
      conv(1, 9, 4, 5, 18, {5, 3}, {1, 2}, {2, 1}, {0, 1}, 3, {1, 2}),  // groups 3, 6 outputs each, dilated
  };
  for (Spec s : {conv(2, 9, 4, 4, 6, {4, 4}, {2, 2}, {1, 1}), conv(1, 9, 4, 5, 18, {5, 3}, {1, 2}, {2, 1}, {0, 1}, 3, {1, 2}),
                 conv(1, 6, 5, 7, 5, {3, 3}, {2, 2}, {1, 1}, {1, 1})}) {
    s["weight"] = "input";
    specs.push_back(s);
  }
  for (const char* kind : {"nan", "inf"}) {
    Spec s = conv(2, 5, 6, 7, 6, {4, 4}, {2, 2}, {1, 1});
    s["special"] = kind;
    specs.push_back(s);
    s = conv(3, 6, 5, 4, 6, {3, 3}, {1, 2}, {1, 1}, {0, 1}, 3);
    s["special"] = kind;
    specs.push_back(s);
  }
  if (!o.quick) {  // SAGAN-sized layers
    specs.push_back(conv(2, 128, 1, 1, 256, {4, 4}, {1, 1}, {0, 0}));
    specs.push_back(conv(2, 256, 8, 8, 128, {4, 4}, {2, 2}, {1, 1}));
    specs.push_back(conv(2, 64, 32, 32, 3, {4, 4}, {2, 2}, {1, 1}));
  }
  return specs;
}

}  // namespace

void register_conv_transpose2d_check(CheckRegistry& r) { r.add({"conv_transpose2d", matrix, prepare}); }

}  // namespace vkattn::conformance
