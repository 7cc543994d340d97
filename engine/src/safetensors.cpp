// safetensors: an 8-byte little-endian header length, a JSON header mapping each tensor name to
// {dtype, shape, data_offsets: [begin, end)} relative to the data that follows, and the data.
// Every offset and size in the header is checked against the file before anything is read.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <optional>
#include <tuple>
#include <vector>
#include <nlohmann/json.hpp>

#include "file_io.h"
#include "json_bounded.h"
#include "half_float.h"
#include "vkattn/error.h"
#include "vkattn/io.h"

namespace vkattn {
namespace {

size_t dtype_size(const std::string& dtype) {
  if (dtype == "F32") return 4;
  if (dtype == "F64") return 8;
  if (dtype == "F16" || dtype == "BF16") return 2;
  return 0;
}

// Little-endian values at any byte offset: the format does not align tensors.
float read_value(const std::string& dtype, const char* p) {
  if (dtype == "F32") {
    float v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  if (dtype == "F64") {
    double v;
    std::memcpy(&v, p, sizeof v);
    return static_cast<float>(v);
  }
  const uint16_t h = static_cast<uint16_t>(static_cast<unsigned char>(p[0]) | static_cast<unsigned char>(p[1]) << 8);
  if (dtype == "BF16") return std::bit_cast<float>(static_cast<uint32_t>(h) << 16);
  return half_to_float(h);
}

}  // namespace

const HostTensor& SafeTensors::at(const std::string& name) const {
  const auto it = tensors.find(name);
  if (it == tensors.end()) throw Error("'" + source + "' has no tensor called '" + name + "'.");
  return it->second;
}

SafeTensors load_safetensors(const std::string& path) { return parse_safetensors(read_file_bytes(path), path); }

namespace {

// What a file that is not safetensors is, when it is a model format people have: a sentence
// saying so and how to export it, or "" (then the caller says what is wrong with it).
std::string foreign_model_format(std::string_view bytes, const std::string& path) {
  const auto ends_with = [&](const char* ext) {
    const std::string e = ext;
    return path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0;
  };
  std::string what;
  if (bytes.substr(0, 4) == std::string_view("PK\x03\x04", 4))
    what = "a zip archive (what torch.save writes: a .pt or .pth checkpoint)";
  else if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x80 && bytes[1] >= 2 && bytes[1] <= 5)
    what = "a Python pickle (a legacy torch.save checkpoint)";
  else if (ends_with(".onnx") || (!bytes.empty() && bytes[0] == 0x08 && bytes.substr(0, 64).find("pytorch") != std::string_view::npos))
    what = "an ONNX model";
  if (what.empty()) return "";
  return "'" + path + "' is " + what + ", not a safetensors file; vkattn reads safetensors: write the PyTorch " +
         "module with vkattn.export(module, path, input_shape) in Python or `python3 -m vkattn export`.";
}

}  // namespace

SafeTensors parse_safetensors(std::string_view bytes, const std::string& path) {
  const std::string bad = "'" + path + "' is not a valid safetensors file: ";
  const auto refuse = [&](const std::string& why) {
    const std::string foreign = foreign_model_format(bytes, path);
    return Error(foreign.empty() ? bad + why : foreign);
  };
  if (bytes.size() < 8) throw refuse("it is shorter than the 8-byte header length.");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = header_len << 8 | static_cast<unsigned char>(bytes[i]);
  if (header_len > bytes.size() - 8)
    throw refuse("its header claims " + std::to_string(header_len) + " bytes but the file has only " +
                 std::to_string(bytes.size() - 8) + " after the length.");
  nlohmann::json header;
  try {
    header = parse_json_bounded(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(header_len),
                                bad + "its header");
  } catch (const nlohmann::json::exception&) {
    throw refuse("its header is not valid JSON.");
  }
  if (!header.is_object()) throw Error(bad + "its header is not a JSON object.");

  SafeTensors out;
  out.source = path;
  const char* data = bytes.data() + 8 + header_len;
  const uint64_t data_size = bytes.size() - 8 - header_len;
  std::vector<std::tuple<uint64_t, uint64_t, std::string>> spans;  // [begin, end) of each tensor's data
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) throw Error(bad + "__metadata__ is not an object.");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) throw Error(bad + "metadata value '" + key + "' is not a string.");
        out.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    const std::string where = bad + "tensor '" + name + "' ";
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets") ||
        !entry["dtype"].is_string() || !entry["shape"].is_array() || !entry["data_offsets"].is_array() ||
        entry["data_offsets"].size() != 2)
      throw Error(where + "needs a dtype, a shape and two data_offsets.");
    const std::string dtype = entry["dtype"];
    const size_t size = dtype_size(dtype);
    if (!size) throw Error(where + "has dtype " + dtype + "; vkattn reads F32, F16, BF16 and F64.");
    HostTensor t;
    constexpr uint64_t kMaxCount = uint64_t{1} << 40;
    for (const auto& d : entry["shape"]) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() > kMaxCount) throw Error(where + "has an invalid shape.");
      t.shape.push_back(d.get<int64_t>());
    }
    const std::optional<uint64_t> fits = element_count_at_most(t.shape, kMaxCount);
    if (!fits) throw Error(where + "has an impossibly large shape.");
    const uint64_t count = *fits;
    const auto& offsets = entry["data_offsets"];
    if (!offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
      throw Error(where + "has invalid data_offsets.");
    const uint64_t begin = offsets[0], end = offsets[1];
    if (begin > end || end > data_size)
      throw Error(where + "has data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                  ") outside the " + std::to_string(data_size) + " bytes of data in the file.");
    if (end - begin != count * size)
      throw Error(where + "has " + std::to_string(end - begin) + " bytes of data but its shape and dtype need " +
                  std::to_string(count * size) + ".");
    t.data.resize(count);
    for (uint64_t i = 0; i < count; ++i) {
      t.data[i] = read_value(dtype, data + begin + i * size);
      if (!std::isfinite(t.data[i]))
        throw Error(where + "holds a NaN or infinite value (element " + std::to_string(i) +
                    "); vkattn refuses weights that would make every output NaN.");
    }
    spans.emplace_back(begin, end, name);
    out.tensors.emplace(name, std::move(t));
  }
  // As the format's reference reader: the tensors' data tile the data section exactly, in some
  // order, with no overlap and no hole.
  std::sort(spans.begin(), spans.end());
  uint64_t at = 0;
  for (const auto& [begin, end, name] : spans) {
    if (begin != at)
      throw Error(bad + "tensor '" + name + "' starts at byte " + std::to_string(begin) + " of the data, but " +
                  (begin < at ? "an earlier tensor's data runs to byte " : "the data before it ends at byte ") +
                  std::to_string(at) + (begin < at ? " (overlapping data)." : " (a hole)."));
    at = end;
  }
  if (at != data_size)
    throw Error(bad + "its tensors' data end at byte " + std::to_string(at) + " but the file holds " +
                std::to_string(data_size) + " bytes of data.");
  return out;
}

void save_safetensors(const std::string& path, const SafeTensors& file) {
  nlohmann::json header = nlohmann::json::object();
  if (!file.metadata.empty()) header["__metadata__"] = file.metadata;
  uint64_t offset = 0;
  for (const auto& [name, t] : file.tensors) {
    const uint64_t bytes = t.data.size() * sizeof(float);
    header[name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  OutputFile out(path);
  const uint64_t len = text.size();
  char length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<char>((len >> (8 * i)) & 0xff);
  out.write(length, 8);
  out.write(text.data(), text.size());
  for (const auto& [name, t] : file.tensors) out.write(t.data.data(), t.data.size() * sizeof(float));
  out.commit();
}

}  // namespace vkattn
