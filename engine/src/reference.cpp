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
