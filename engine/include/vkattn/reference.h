// Double-precision CPU references for every kernel: what tests and the conformance suite
// compare the GPU against. Layouts are the kernels' own (C order, NCHW / (B, C, N)).
#pragma once
#include <cstdint>
#include <vector>

namespace vkattn::reference {

// y[b, m, n] = sum_c w[m, c] x[b, c, n] + bias[m]
std::vector<double> projection(const std::vector<float>& x, const std::vector<float>& w,
                               const std::vector<float>& bias, int64_t B, int64_t C, int64_t M, int64_t N);
// s[b, i, j] = scale * sum_c q[b, c, i] k[b, c, j]; q, k are (B, Cq, N)
std::vector<double> scores(const std::vector<double>& q, const std::vector<double>& k, int64_t B,
                           int64_t Cq, int64_t N, double scale);
// rows of length L
std::vector<double> softmax(const std::vector<double>& x, int64_t rows, int64_t L);
// o[b, c, i] = sum_j v[b, c, j] a[b, i, j]
std::vector<double> attend(const std::vector<double>& v, const std::vector<double>& a, int64_t B,
                           int64_t Cv, int64_t N);
// y = gamma o + x
std::vector<double> residual(const std::vector<double>& o, const std::vector<double>& x, double gamma);

// Layer shapes for the references below: an NCHW activation and a 2-D window.
struct Image {
  int64_t B, C, H, W;
};
struct Window {
  int64_t kh, kw, sh, sw, ph, pw;  // kernel, stride, padding
};
// y[b, m, oy, ox] = bias[m] + sum_{c, ky, kx} w[m, c, ky, kx] x[b, c, oy*sh + ky - ph, ox*sw + kx - pw],
// zero outside the image; w is (M, C, kh, kw).
std::vector<double> conv2d(const std::vector<double>& x, Image in, const std::vector<double>& w,
                           const std::vector<double>& bias, int64_t M, Window window);
std::vector<double> relu(const std::vector<double>& x);
// Max (padding never wins) or average (padding counts as zero) over each window.
std::vector<double> pool2d(const std::vector<double>& x, Image in, Window window, bool max);
// (B, C, H, W) -> (B, C) means.
std::vector<double> global_avg_pool2d(const std::vector<double>& x, Image in);
// y[b, m] = bias[m] + sum_f w[m, f] x[b, f]
std::vector<double> linear(const std::vector<double>& x, const std::vector<double>& w,
                           const std::vector<double>& bias, int64_t B, int64_t F, int64_t M);

}  // namespace vkattn::reference
