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

}  // namespace vkattn::reference
