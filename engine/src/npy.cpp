// NumPy .npy format, versions 1-3: magic, version, header length, a Python dict literal
// ({'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }), padding, then the raw data.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>
#include <regex>
#include <vector>

#include "file_io.h"
#include "vkattn/error.h"
#include "vkattn/io.h"

namespace vkattn {
namespace {

// The header's shape tuple: whole non-negative numbers separated by commas, "(5,)" for one
// dimension and "()" for a scalar; anything else (a sign, a letter, an empty entry) is refused.
Shape parse_shape(const std::string& dims, const std::string& path) {
  const auto bad = [&] { return Error("'" + path + "' has a malformed .npy shape (" + dims + ")."); };
  Shape shape;
  std::vector<std::string> pieces(1);
  for (char c : dims) c == ',' ? pieces.emplace_back() : pieces.back() += c;
  for (std::string& piece : pieces) {
    const auto space = [](unsigned char c) { return std::isspace(c) != 0; };
    piece.erase(piece.begin(), std::find_if_not(piece.begin(), piece.end(), space));
    piece.erase(std::find_if_not(piece.rbegin(), piece.rend(), space).base(), piece.end());
  }
  if (pieces.size() > 1 && pieces.back().empty()) pieces.pop_back();  // "(5,)"
  if (pieces.size() == 1 && pieces[0].empty()) return shape;           // "()"
  for (const std::string& digits : pieces) {
    if (digits.empty() || digits.size() > 12 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      throw bad();
    shape.push_back(std::stoll(digits));
  }
  return shape;
}

}  // namespace

HostTensor load_npy(const std::string& path) { return parse_npy(read_file_bytes(path), path); }

HostTensor parse_npy(std::string_view bytes, const std::string& path) {
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    throw Error("'" + path + "' is not a NumPy .npy file.");
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
    header_start = 10;
  } else if ((major == 2 || major == 3) && bytes.size() >= 12) {
    for (int i = 3; i >= 0; --i) header_len = header_len << 8 | static_cast<unsigned char>(bytes[8 + i]);
    header_start = 12;
  } else {
    throw Error("'" + path + "' uses .npy format version " + std::to_string(major) + ", which vkattn cannot read.");
  }
  if (header_start + header_len > bytes.size()) throw Error("'" + path + "' is truncated inside its header.");
  const std::string header(bytes.substr(header_start, header_len));

  std::smatch m;
  if (!std::regex_search(header, m, std::regex(R"('descr'\s*:\s*'([^']*)')")))
    throw Error("'" + path + "' has a .npy header without a dtype.");
  const std::string descr = m[1];
  if (descr != "<f4" && descr != "=f4")
    throw Error("'" + path + "' holds '" + descr + "' data; vkattn needs little-endian float32 ('<f4'): "
                "save it with x.astype(numpy.float32).");
  if (std::regex_search(header, m, std::regex(R"('fortran_order'\s*:\s*True)")))
    throw Error("'" + path + "' is stored in Fortran order; save a C-ordered array (numpy.ascontiguousarray).");
  if (!std::regex_search(header, m, std::regex(R"('shape'\s*:\s*\(([^)]*)\))")))
    throw Error("'" + path + "' has a .npy header without a shape.");

  HostTensor t;
  t.shape = parse_shape(m[1].str(), path);
  const size_t data_start = header_start + header_len;
  const uint64_t have = (bytes.size() - data_start) / sizeof(float);
  const std::optional<uint64_t> fits = element_count_at_most(t.shape, have);
  if (!fits)
    throw Error("'" + path + "' is truncated: its shape " + to_string(t.shape) + " needs more values than the " +
                std::to_string(have) + " the file holds.");
  const uint64_t count = *fits;
  if (bytes.size() - data_start != count * sizeof(float))
    throw Error("'" + path + "' has " + std::to_string(bytes.size() - data_start - count * sizeof(float)) +
                " bytes after the " + std::to_string(count) + " values its shape " + to_string(t.shape) + " holds.");
  t.data.resize(count);
  if (count) std::memcpy(t.data.data(), bytes.data() + data_start, count * sizeof(float));  // data() may be null
  return t;
}

void write_npy(OutputFile& out, const Shape& shape,
               const std::function<void(uint64_t first, uint64_t count, float* dst)>& read) {
  std::string dims;
  for (int64_t d : shape) dims += std::to_string(d) + ", ";
  if (shape.size() > 1) dims.resize(dims.size() - 2);
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Pad so that magic (6) + version (2) + length (2) + header ends on a 64-byte boundary with '\n'.
  header.append(63 - (10 + header.size()) % 64, ' ');
  header += '\n';
  const char len[2] = {static_cast<char>(header.size() & 0xff), static_cast<char>(header.size() >> 8)};
  out.write("\x93NUMPY\x01\x00", 8);
  out.write(len, 2);
  out.write(header.data(), header.size());
  const uint64_t total = static_cast<uint64_t>(element_count(shape)), piece = uint64_t{1} << 22;  // 16 MiB
  std::vector<float> buffer(std::min(total, piece));
  for (uint64_t first = 0; first < total; first += piece) {
    const uint64_t count = std::min(piece, total - first);
    read(first, count, buffer.data());
    out.write(buffer.data(), count * sizeof(float));
  }
}

void save_npy(const std::string& path, const Shape& shape,
              const std::function<void(uint64_t first, uint64_t count, float* dst)>& read) {
  OutputFile out(path);
  write_npy(out, shape, read);
  out.commit();
}

void save_npy(const std::string& path, const HostTensor& t) {
  if (static_cast<int64_t>(t.data.size()) != element_count(t.shape))
    throw Error("Cannot save a tensor of shape " + to_string(t.shape) + " holding " + std::to_string(t.data.size()) +
                " values to '" + path + "'.");
  save_npy(path, t.shape, [&](uint64_t first, uint64_t count, float* dst) {
    std::memcpy(dst, t.data.data() + first, count * sizeof(float));
  });
}

}  // namespace vkattn
