// conv2d against float64: 1x1 images, primes, kernels larger than the stride, non-square
// kernels and strides, padding, and channel counts that leave tile remainders; with "then", nodes
// after it that the plan folds into the convolution's epilogue where the kernels can: a residual
// add, an activation, a 2x2 max pool (the plan keeps them as nodes where it cannot).
// With "special", a few NaN or infinite inputs: NaN must come through the relu and the pool.
// With "groups" and "dilation" (conv2d_grouped.comp): depthwise as MobileNet and EfficientNet
// use it (3x3 and 5x5, stride 1 and 2), groups 2 and 3, channels per group not a multiple of 4,
// dilation alone and with groups, asymmetric in every option.
#include <algorithm>
#include <functional>

#include "ops/activation/epilogue_check.h"
#include "ops/pool2d/pool2d_check.h"
#include "vkattn/op_check.h"
#include "vkattn/ops.h"

namespace vkattn::conformance {
namespace {

int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d = 1) {
  return (in + 2 * p - d * (k - 1) - 1) / s + 1;
}

// y[b, m, oy, ox] = bias[m] + sum_{c < Cg, ky, kx} w[m, c, ky, kx] x[b, g Cg + c, oy*sh + ky*dh - ph,
// ox*sw + kx*dw - pw], zero outside the image, where g = m / (M / groups) is m's group and
// Cg = C / groups.
std::vector<double> reference(const HostTensor& x, const HostTensor& w, const HostTensor& bias, Size2 s, Size2 pad,
                              int64_t groups, Size2 d) {
  const int64_t B = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t M = w.shape[0], Cg = w.shape[1], KH = w.shape[2], KW = w.shape[3], Mg = M / groups;
  const int64_t OH = out_size(H, KH, s.h, pad.h, d.h), OW = out_size(W, KW, s.w, pad.w, d.w);
  std::vector<double> y(B * M * OH * OW);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t oy = 0; oy < OH; ++oy)
        for (int64_t ox = 0; ox < OW; ++ox) {
          double acc = bias.data[m];
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t ky = 0; ky < KH; ++ky)
              for (int64_t kx = 0; kx < KW; ++kx) {
                const int64_t iy = oy * s.h + ky * d.h - pad.h, ix = ox * s.w + kx * d.w - pad.w;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                const int64_t xc = m / Mg * Cg + c;
                acc += double(w.data[((m * Cg + c) * KH + ky) * KW + kx]) * x.data[((b * C + xc) * H + iy) * W + ix];
              }
          y[((b * M + m) * OH + oy) * OW + ox] = acc;
        }
  return y;
}

// {"B", "C", "H", "W", "M", "k": [kh, kw], "stride": [sh, sw], "pad": [ph, pw],
//  "then": ["add" | "max_pool" | an activation_step name, ...], "groups" (1), "dilation": [dh, dw]
//  ([1, 1])}; each "add" adds an input "r<i>" of the shape so far.
Prepared prepare(const Spec& s, Rng& rng) {
  const Shape k = shape(s, "k"), st = shape(s, "stride"), pd = shape(s, "pad");
  const Shape dl = s.contains("dilation") ? shape(s, "dilation") : Shape{1, 1};
  const int64_t C = integer(s, "C"), M = integer(s, "M"), groups = s.contains("groups") ? integer(s, "groups") : 1;
  const Size2 stride{st[0], st[1]}, pad{pd[0], pd[1]}, dilation{dl[0], dl[1]};
  Prepared p;
  auto x = random(rng, {integer(s, "B"), C, integer(s, "H"), integer(s, "W")}),
       w = random(rng, {M, C / groups, k[0], k[1]}), b = random(rng, {M});
  sprinkle(x, special(s), 3, rng);
  Graph& g = p.graph;
  const std::vector<std::string> then = s.value("then", std::vector<std::string>{});
  TensorId y = ops::conv2d(g, g.input("x", x.shape), g.weight("w", w), g.weight("b", b), stride, pad, groups, dilation);
  const int64_t BM = x.shape[0] * M;
  int64_t OH = out_size(x.shape[2], k[0], stride.h, pad.h, dilation.h),
          OW = out_size(x.shape[3], k[1], stride.w, pad.w, dilation.w);
  // What each step does to the float64 result, applied in order.
  std::vector<std::function<void(std::vector<double>&)>> steps;
  for (size_t i = 0; i < then.size(); ++i)
    if (then[i] == "max_pool") {
      y = ops::max_pool2d(g, y, {2, 2}, {2, 2}, {0, 0});
      steps.push_back([=](std::vector<double>& v) { v = vkattn::reference::pool2d(v, BM, OH, OW, {2, 2}, {2, 2}, {0, 0}, true); });
      OH /= 2, OW /= 2;
    } else {
      auto [next, step] = then_step(p, y, then[i], i, rng);
      y = next;
      steps.push_back(std::move(step));
    }
  g.output("y", y);
  p.reference = [=] {
    auto y = reference(x, w, b, stride, pad, groups, dilation);
    for (const auto& step : steps) step(y);
    return Outputs{{"y", y}};
  };
  p.inputs.insert(p.inputs.begin(), {"x", std::move(x)});
  return p;
}

Spec conv(int64_t B, int64_t C, int64_t H, int64_t W, int64_t M, Shape k, Shape stride, Shape pad) {
  return {{"B", B}, {"C", C}, {"H", H}, {"W", W}, {"M", M}, {"k", k}, {"stride", stride}, {"pad", pad}};
}

Spec grouped(Spec s, int64_t groups, Shape dilation = {1, 1}) {
  s["groups"] = groups;
  s["dilation"] = dilation;
  return s;
}

// The cases of conv2d_grouped.comp.
std::vector<Spec> grouped_matrix(const MatrixOptions& o) {
  std::vector<Spec> specs = {
      // Depthwise, MobileNet's 3x3 and EfficientNet's 5x5 at stride 1 and 2, odd and even sizes.
      grouped(conv(1, 1, 1, 1, 1, {3, 3}, {1, 1}, {2, 2}), 1, {2, 2}),  // one pixel, dilated
      grouped(conv(3, 7, 9, 11, 7, {3, 3}, {1, 1}, {1, 1}), 7),
      grouped(conv(2, 13, 14, 14, 13, {3, 3}, {2, 2}, {1, 1}), 13),
      grouped(conv(1, 6, 15, 13, 6, {5, 5}, {1, 1}, {2, 2}), 6),
      grouped(conv(3, 10, 17, 16, 10, {5, 5}, {2, 2}, {2, 2}), 10),
      grouped(conv(2, 5, 7, 7, 5, {1, 1}, {1, 1}, {0, 0}), 5),
      grouped(conv(1, 5, 12, 11, 5, {7, 7}, {1, 1}, {3, 3}), 5),  // ConvNeXt's 7x7
      grouped(conv(1, 4, 13, 14, 8, {9, 9}, {1, 2}, {4, 4}), 2),  // over 64 taps: smaller tiles
      // Depthwise with a channel multiplier (M = 2 C and 3 C).
      grouped(conv(2, 5, 8, 9, 10, {3, 3}, {1, 1}, {1, 1}), 5),
      grouped(conv(1, 3, 6, 5, 9, {3, 2}, {1, 2}, {1, 0}), 3),
      // Groups 2 and 3, channels per group not a multiple of 4 (and over 4: several runs).
      grouped(conv(2, 6, 9, 10, 10, {3, 3}, {1, 1}, {1, 1}), 2),
      grouped(conv(3, 9, 7, 11, 15, {3, 3}, {2, 1}, {0, 1}), 3),
      grouped(conv(1, 12, 8, 8, 18, {1, 1}, {1, 1}, {0, 0}), 3),
      grouped(conv(2, 4, 12, 13, 14, {4, 4}, {2, 3}, {1, 2}), 2),
      // Dilation alone (atrous) and with groups, asymmetric kernel, stride, padding and dilation.
      grouped(conv(2, 3, 11, 13, 5, {3, 3}, {1, 1}, {2, 2}), 1, {2, 2}),
      grouped(conv(1, 6, 16, 15, 4, {3, 5}, {2, 1}, {3, 1}), 2, {3, 1}),
      grouped(conv(3, 8, 13, 12, 8, {5, 3}, {1, 2}, {0, 2}), 8, {2, 3}),
      grouped(conv(1, 2, 6, 7, 3, {2, 3}, {3, 1}, {0, 0}), 1, {5, 3}),  // the kernel spans the image
  };
  // A relu folds into the kernel; a max pool after it stays a node of its own.
  auto then = [](Spec s, std::vector<std::string> ops) {
    s["then"] = ops;
    return s;
  };
  auto then_relu = [&](Spec s) { return then(std::move(s), {"relu"}); };
  specs.push_back(then_relu(grouped(conv(2, 6, 9, 10, 6, {3, 3}, {1, 1}, {1, 1}), 6)));
  specs.push_back(then(grouped(conv(1, 4, 8, 8, 8, {3, 3}, {1, 1}, {1, 1}), 2), {"relu", "max_pool"}));
  specs.push_back(then(grouped(conv(2, 6, 9, 7, 3, {3, 3}, {1, 1}, {1, 1}), 3), {"max_pool", "relu"}));
  // MobileNet's depthwise conv, BN and ReLU6 or Hardswish; a residual onto it.
  specs.push_back(then(grouped(conv(2, 8, 9, 10, 8, {3, 3}, {1, 1}, {1, 1}), 8), {"relu6"}));
  specs.push_back(then(grouped(conv(1, 6, 7, 9, 6, {5, 5}, {2, 2}, {2, 2}), 6), {"hardswish"}));
  specs.push_back(then(grouped(conv(2, 6, 9, 7, 9, {3, 3}, {1, 1}, {1, 1}), 3), {"add", "silu"}));
  for (const char* kind : {"nan", "inf"}) {
    Spec s = grouped(conv(2, 6, 9, 10, 6, {3, 3}, {2, 1}, {1, 1}), 6, {1, 2});
    s["special"] = kind;
    specs.push_back(s);
    s = then_relu(grouped(conv(3, 6, 7, 9, 9, {3, 3}, {1, 1}, {1, 1}), 3));
    s["special"] = kind;
    specs.push_back(s);
  }
  if (!o.quick) {  // MobileNetV2's widest depthwise layers
    specs.push_back(grouped(conv(2, 96, 56, 56, 96, {3, 3}, {2, 2}, {1, 1}), 96));
    specs.push_back(grouped(conv(2, 144, 56, 56, 144, {3, 3}, {1, 1}, {1, 1}), 144));
  }
  return specs;
}

std::vector<Spec> matrix(const MatrixOptions& o) {
  std::vector<Spec> specs = {conv(1, 1, 1, 1, 1, {3, 3}, {1, 1}, {1, 1}),    conv(8, 3, 7, 13, 5, {3, 3}, {1, 1}, {1, 1}),
                             conv(2, 1, 28, 28, 16, {3, 3}, {1, 1}, {1, 1}), conv(2, 40, 9, 11, 72, {5, 3}, {2, 1}, {2, 1}),
                             conv(1, 3, 17, 17, 257, {4, 4}, {3, 3}, {0, 0}), conv(1, 2, 5, 6, 3, {5, 6}, {1, 1}, {0, 0})};
  auto then = [](Spec s, std::vector<std::string> ops) {
    s["then"] = ops;
    return s;
  };
  specs.push_back(then(conv(3, 5, 9, 7, 6, {3, 3}, {1, 1}, {1, 1}), {"relu"}));
  specs.push_back(then(conv(2, 32, 14, 14, 64, {3, 3}, {1, 1}, {1, 1}), {"relu"}));
  // Folded max pools: the classifier's first layer, odd sizes (the last row and column dropped),
  // the pool before the relu, and channels over several lane groups with a stride.
  specs.push_back(then(conv(2, 1, 28, 28, 32, {3, 3}, {1, 1}, {1, 1}), {"relu", "max_pool"}));
  specs.push_back(then(conv(3, 5, 9, 7, 6, {3, 3}, {1, 1}, {1, 1}), {"max_pool"}));
  specs.push_back(then(conv(1, 7, 11, 13, 72, {3, 2}, {2, 1}, {1, 0}), {"max_pool", "relu"}));
  auto special = [](Spec s, const char* kind) {
    s["special"] = kind;
    return s;
  };
  for (const char* kind : {"nan", "inf"}) {
    specs.push_back(special(conv(3, 3, 7, 13, 5, {3, 3}, {1, 1}, {1, 1}), kind));
    specs.push_back(special(then(conv(3, 5, 9, 7, 6, {3, 3}, {1, 1}, {1, 1}), {"relu"}), kind));
    specs.push_back(special(then(conv(2, 1, 28, 28, 32, {3, 3}, {1, 1}, {1, 1}), {"relu", "max_pool"}), kind));
    specs.push_back(special(then(conv(1, 7, 11, 13, 72, {3, 2}, {2, 1}, {1, 0}), {"max_pool", "relu"}), kind));
  }
  if (!o.quick) specs.push_back(conv(2, 72, 32, 32, 40, {3, 3}, {1, 1}, {1, 1}));
  // The cpu profile's large tiles (ops::lane_tile: from 2^24 multiply-adds): 16 positions a lane
  // with a partial last lane and odd positions; 8 a lane over two items with rows shorter than a
  // lane's run; a 1x1 convolution with a residual and whole vec4 stores; channels in uneven groups.
  specs.push_back(conv(1, 64, 29, 27, 72, {3, 3}, {1, 1}, {1, 1}));
  specs.push_back(conv(2, 128, 6, 6, 208, {3, 3}, {1, 1}, {1, 1}));
  specs.push_back(then(conv(1, 256, 14, 14, 340, {1, 1}, {1, 1}, {0, 0}), {"add", "relu"}));
  // Every activation as an epilogue, after a residual (ResNet's conv, add, relu), before a pool
  // (the non-monotone ones: each of the 4 activated before the max), and on a 1x1 convolution.
  for (const std::string& a : activation_step_names()) {
    specs.push_back(then(conv(2, 5, 9, 7, 6, {3, 3}, {1, 1}, {1, 1}), {"add", a}));
    specs.push_back(then(conv(1, 3, 8, 9, 5, {3, 3}, {1, 1}, {1, 1}), {a, "max_pool"}));
  }
  specs.push_back(then(conv(2, 16, 7, 7, 24, {1, 1}, {1, 1}, {0, 0}), {"add"}));
  specs.push_back(then(conv(3, 6, 5, 5, 8, {3, 3}, {2, 2}, {1, 1}), {"add", "hardswish", "max_pool"}));
  specs.push_back(then(conv(2, 4, 8, 8, 4, {3, 3}, {1, 1}, {1, 1}), {"max_pool", "silu"}));  // not folded
  specs.push_back(then(conv(2, 4, 8, 8, 4, {3, 3}, {1, 1}, {1, 1}), {"max_pool", "add"}));   // not folded
  for (Spec& s : grouped_matrix(o)) specs.push_back(std::move(s));
  return specs;
}

}  // namespace

void register_conv2d_check(CheckRegistry& r) { r.add({"conv2d", matrix, prepare}); }

}  // namespace vkattn::conformance
