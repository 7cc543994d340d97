#include "vkattn/reference.h"

#include <algorithm>
#include <cmath>

namespace vkattn::reference {

std::vector<double> projection(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& bias,
                               int64_t B, int64_t C, int64_t M, int64_t N) {
  std::vector<double> y(B * M * N);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t m = 0; m < M; ++m) {
      double* row = &y[(b * M + m) * N];
      std::fill(row, row + N, static_cast<double>(bias[m]));
      for (int64_t c = 0; c < C; ++c) {
        const double wc = w[m * C + c];
        const float* xr = &x[(b * C + c) * N];
        for (int64_t n = 0; n < N; ++n) row[n] += wc * xr[n];
      }
    }
  return y;
}

std::vector<double> scores(const std::vector<double>& q, const std::vector<double>& k, int64_t B, int64_t Cq, int64_t N,
                           double scale) {
  std::vector<double> s(B * N * N, 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < Cq; ++c) {
      const double* qc = &q[(b * Cq + c) * N];
      const double* kc = &k[(b * Cq + c) * N];
      for (int64_t i = 0; i < N; ++i) {
        double* row = &s[(b * N + i) * N];
        for (int64_t j = 0; j < N; ++j) row[j] += qc[i] * kc[j];
      }
    }
  for (double& v : s) v *= scale;
  return s;
}

std::vector<double> softmax(const std::vector<double>& x, int64_t rows, int64_t L) {
  std::vector<double> y(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    const double* in = &x[r * L];
    double* out = &y[r * L];
    const double mx = *std::max_element(in, in + L);
    double sum = 0;
    for (int64_t j = 0; j < L; ++j) sum += out[j] = std::exp(in[j] - mx);
    for (int64_t j = 0; j < L; ++j) out[j] /= sum;
  }
  return y;
}

std::vector<double> attend(const std::vector<double>& v, const std::vector<double>& a, int64_t B, int64_t Cv, int64_t N) {
  std::vector<double> o(B * Cv * N);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < Cv; ++c) {
      const double* vc = &v[(b * Cv + c) * N];
      for (int64_t i = 0; i < N; ++i) {
        const double* ai = &a[(b * N + i) * N];
        double sum = 0;
        for (int64_t j = 0; j < N; ++j) sum += vc[j] * ai[j];
        o[(b * Cv + c) * N + i] = sum;
      }
    }
  return o;
}

std::vector<double> residual(const std::vector<double>& o, const std::vector<double>& x, double gamma) {
  std::vector<double> y(o.size());
  for (size_t i = 0; i < o.size(); ++i) y[i] = gamma * o[i] + x[i];
  return y;
}

}  // namespace vkattn::reference

namespace vkattn::reference {

static int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t p) { return (in + 2 * p - k) / s + 1; }

std::vector<double> conv2d(const std::vector<double>& x, Image in, const std::vector<double>& w,
                           const std::vector<double>& bias, int64_t M, Window win) {
  const int64_t OH = out_size(in.H, win.kh, win.sh, win.ph), OW = out_size(in.W, win.kw, win.sw, win.pw);
  std::vector<double> y(in.B * M * OH * OW);
  for (int64_t b = 0; b < in.B; ++b)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t oy = 0; oy < OH; ++oy)
        for (int64_t ox = 0; ox < OW; ++ox) {
          double acc = bias[m];
          for (int64_t c = 0; c < in.C; ++c)
            for (int64_t ky = 0; ky < win.kh; ++ky)
              for (int64_t kx = 0; kx < win.kw; ++kx) {
                const int64_t iy = oy * win.sh + ky - win.ph, ix = ox * win.sw + kx - win.pw;
                if (iy < 0 || iy >= in.H || ix < 0 || ix >= in.W) continue;
                acc += w[((m * in.C + c) * win.kh + ky) * win.kw + kx] * x[((b * in.C + c) * in.H + iy) * in.W + ix];
              }
          y[((b * M + m) * OH + oy) * OW + ox] = acc;
        }
  return y;
}

std::vector<double> relu(const std::vector<double>& x) {
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = std::max(x[i], 0.0);
  return y;
}

std::vector<double> pool2d(const std::vector<double>& x, Image in, Window win, bool max) {
  const int64_t OH = out_size(in.H, win.kh, win.sh, win.ph), OW = out_size(in.W, win.kw, win.sw, win.pw);
  std::vector<double> y(in.B * in.C * OH * OW);
  for (int64_t p = 0; p < in.B * in.C; ++p)
    for (int64_t oy = 0; oy < OH; ++oy)
      for (int64_t ox = 0; ox < OW; ++ox) {
        double acc = max ? -INFINITY : 0.0;
        for (int64_t ky = 0; ky < win.kh; ++ky)
          for (int64_t kx = 0; kx < win.kw; ++kx) {
            const int64_t iy = oy * win.sh + ky - win.ph, ix = ox * win.sw + kx - win.pw;
            if (iy < 0 || iy >= in.H || ix < 0 || ix >= in.W) continue;
            const double v = x[(p * in.H + iy) * in.W + ix];
            acc = max ? std::max(acc, v) : acc + v;
          }
        y[(p * OH + oy) * OW + ox] = max ? acc : acc / double(win.kh * win.kw);
      }
  return y;
}

std::vector<double> global_avg_pool2d(const std::vector<double>& x, Image in) {
  std::vector<double> y(in.B * in.C, 0.0);
  const int64_t plane = in.H * in.W;
  for (int64_t p = 0; p < in.B * in.C; ++p) {
    for (int64_t i = 0; i < plane; ++i) y[p] += x[p * plane + i];
    y[p] /= double(plane);
  }
  return y;
}

std::vector<double> linear(const std::vector<double>& x, const std::vector<double>& w, const std::vector<double>& bias,
                           int64_t B, int64_t F, int64_t M) {
  std::vector<double> y(B * M);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t m = 0; m < M; ++m) {
      double acc = bias[m];
      for (int64_t f = 0; f < F; ++f) acc += w[m * F + f] * x[b * F + f];
      y[b * M + m] = acc;
    }
  return y;
}

}  // namespace vkattn::reference
