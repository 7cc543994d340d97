// .npy and safetensors reading, writing, and refusing malformed files with a clear error.
#include <cmath>
#include <fstream>

#include "gpu.h"
#include "temp_dir.h"

namespace {

using test::TempDir;

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A safetensors file from a header text and data bytes.
std::string safetensors(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

vkattn::SafeTensors block_file(int64_t C, int64_t Cq, const std::string& prefix) {
  vkattn::SafeTensors f;
  f.tensors[prefix + "query_conv.weight"] = test::random_tensor({Cq, C, 1, 1});
  f.tensors[prefix + "query_conv.bias"] = test::random_tensor({Cq});
  f.tensors[prefix + "key_conv.weight"] = test::random_tensor({Cq, C, 1, 1});
  f.tensors[prefix + "key_conv.bias"] = test::random_tensor({Cq});
  f.tensors[prefix + "value_conv.weight"] = test::random_tensor({C, C, 1, 1});
  f.tensors[prefix + "value_conv.bias"] = test::random_tensor({C});
  f.tensors[prefix + "gamma"] = test::random_tensor({1});
  return f;
}

}  // namespace

TEST_CASE("npy round trip") {
  TempDir dir;
  const auto t = test::random_tensor({2, 3, 5, 7});
  vkattn::save_npy(dir.file("t.npy"), t);
  const auto back = vkattn::load_npy(dir.file("t.npy"));
  CHECK(back.shape == t.shape);
  CHECK(back.data == t.data);
}

TEST_CASE("malformed npy files are refused with a sentence") {
  TempDir dir;
  const auto t = test::random_tensor({4, 4});
  vkattn::save_npy(dir.file("good.npy"), t);
  const std::string good = read_bytes(dir.file("good.npy"));

  write_bytes(dir.file("magic.npy"), "not a numpy file at all");
  CHECK_THROWS_WITH_AS(vkattn::load_npy(dir.file("magic.npy")), doctest::Contains("not a NumPy"), vkattn::Error);
  write_bytes(dir.file("short.npy"), good.substr(0, good.size() - 5));
  CHECK_THROWS_WITH_AS(vkattn::load_npy(dir.file("short.npy")), doctest::Contains("truncated"), vkattn::Error);
  std::string f8 = good;
  f8.replace(f8.find("<f4"), 3, "<f8");
  write_bytes(dir.file("f8.npy"), f8);
  CHECK_THROWS_WITH_AS(vkattn::load_npy(dir.file("f8.npy")), doctest::Contains("float32"), vkattn::Error);
  std::string fortran = good;
  fortran.replace(fortran.find("False"), 5, "True ");
  write_bytes(dir.file("fortran.npy"), fortran);
  CHECK_THROWS_WITH_AS(vkattn::load_npy(dir.file("fortran.npy")), doctest::Contains("Fortran"), vkattn::Error);
  // The shape is read strictly and checked against the data's exact size, before any allocation.
  const auto with_shape = [&](const std::string& name, const std::string& shape, const std::string& tail = "") {
    std::string bytes = good;
    bytes.replace(bytes.find("(4, 4)"), 6, shape);
    write_bytes(dir.file(name), bytes + tail);
    return dir.file(name);
  };
  CHECK_THROWS_WITH_AS(vkattn::load_npy(with_shape("neg.npy", "(-1,4)")), doctest::Contains("malformed .npy shape"),
                       vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::load_npy(with_shape("x.npy", "(4x,4)")), doctest::Contains("malformed .npy shape"),
                       vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::load_npy(with_shape("gap.npy", "(4  4)")), doctest::Contains("malformed .npy shape"),
                       vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::load_npy(with_shape("empty.npy", "(, 16)")), doctest::Contains("malformed .npy shape"),
                       vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::load_npy(with_shape("wrap.npy", "(999999999999,999999999999,999999999999,1)")),
                       doctest::Contains("truncated"), vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::load_npy(with_shape("tail.npy", "(4, 4)", "abcd")), doctest::Contains("4 bytes after"),
                       vkattn::Error);
  CHECK(vkattn::load_npy(with_shape("flat.npy", "(16, )")).shape == vkattn::Shape{16});
  CHECK(vkattn::load_npy(with_shape("spaced.npy", "(2 ,8)")).shape == vkattn::Shape{2, 8});
  write_bytes(dir.file("header.npy"), good.substr(0, 20));
  CHECK_THROWS_AS(vkattn::load_npy(dir.file("header.npy")), vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::load_npy(dir.file("missing.npy")), doctest::Contains("Cannot open"), vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::load_npy(dir.file("")), doctest::Contains("is a directory"), vkattn::Error);
  CHECK_THROWS_WITH_AS(vkattn::load_safetensors(dir.file("")), doctest::Contains("is a directory"), vkattn::Error);
}

TEST_CASE("safetensors round trip with metadata and a prefix") {
  TempDir dir;
  auto f = block_file(16, 2, "attn.");
  f.metadata["attn.scale"] = "0.25";
  vkattn::save_safetensors(dir.file("m.safetensors"), f);
  const auto back = vkattn::load_safetensors(dir.file("m.safetensors"));
  CHECK(back.tensors.size() == 7);
  CHECK(back.at("attn.value_conv.weight").data == f.tensors["attn.value_conv.weight"].data);
  const auto w = vkattn::SelfAttentionWeights::from_safetensors(back);
  CHECK(w.channels == 16);
  CHECK(w.query_channels == 2);
  CHECK(w.scale == 0.25f);
  CHECK(w.gamma == f.tensors["attn.gamma"].data[0]);
  CHECK_THROWS_AS(vkattn::SelfAttentionWeights::from_safetensors(back, "other."), vkattn::Error);
}

TEST_CASE("safetensors reads F16, BF16 and F64 as float32") {
  TempDir dir;
  // 1.0 and -2.5 in each format, little-endian.
  const std::string f16("\x00\x3c\x00\xc1", 4), bf16("\x80\x3f\x20\xc0", 4);
  double d[2] = {1.0, -2.5};
  const std::string f64(reinterpret_cast<const char*>(d), 16);
  const std::string header = R"({"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},)"
                             R"("b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]},)"
                             R"("c":{"dtype":"F64","shape":[2],"data_offsets":[8,24]}})";
  write_bytes(dir.file("mixed.safetensors"), safetensors(header, f16 + bf16 + f64));
  const auto f = vkattn::load_safetensors(dir.file("mixed.safetensors"));
  for (const char* name : {"a", "b", "c"}) CHECK(f.at(name).data == std::vector<float>{1.f, -2.5f});
}

TEST_CASE("malformed safetensors files are refused with a sentence") {
  TempDir dir;
  const std::string four_floats(16, '\0');
  auto refuse = [&](const std::string& bytes, const std::string& words) {
    write_bytes(dir.file("bad.safetensors"), bytes);
    CHECK_THROWS_WITH_AS(vkattn::load_safetensors(dir.file("bad.safetensors")), doctest::Contains(words.c_str()),
                         vkattn::Error);
  };
  refuse("abc", "shorter");
  refuse(safetensors(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", four_floats).substr(0, 30),
         "header claims");
  refuse(safetensors("{not json", ""), "not valid JSON");
  refuse(safetensors("[1, 2]", ""), "not a JSON object");
  refuse(safetensors(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,32]}})", four_floats), "outside");
  refuse(safetensors(R"({"a":{"dtype":"F32","shape":[5],"data_offsets":[0,16]}})", four_floats), "need");
  refuse(safetensors(R"({"a":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}})", four_floats), "dtype");
  refuse(safetensors(R"({"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})", four_floats), "shape");
  refuse(safetensors(R"({"a":{"dtype":"F32","shape":[4]}})", four_floats), "data_offsets");
  refuse(safetensors(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[16,0]}})", four_floats), "outside");
  refuse(safetensors(R"({"__metadata__":{"k":1}})", ""), "metadata");
  // As the format's reference reader: the tensors tile the data exactly.
  refuse(safetensors(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                     R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", four_floats), "overlapping");
  refuse(safetensors(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                     R"("b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}})", four_floats), "a hole");
  refuse(safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", four_floats), "end at byte 8");
  // A shape whose product wraps 2^64 (2^40 * 2^40 * 2^40 = 0 modulo 2^64) with no data.
  refuse(safetensors(R"({"a":{"dtype":"F32","shape":[1099511627776,1099511627776,1099511627776],)"
                     R"("data_offsets":[0,0]}})", ""), "impossibly large");
  const float nan = NAN, inf = -INFINITY;
  refuse(safetensors(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                     std::string(reinterpret_cast<const char*>(&inf), 4) + std::string(reinterpret_cast<const char*>(&nan), 4)),
         "tensor 'w' holds a NaN or infinite value (element 0)");
}

TEST_CASE("safetensors reads F32 data at an offset that is not a multiple of 4") {
  TempDir dir;
  const float v[2] = {1.f, -2.5f};
  std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  if ((8 + header.size()) % 4 == 0) header += ' ';  // the data starts at an odd byte of the file
  write_bytes(dir.file("odd.safetensors"), safetensors(header, std::string(reinterpret_cast<const char*>(v), 8)));
  CHECK(vkattn::load_safetensors(dir.file("odd.safetensors")).at("a").data == std::vector<float>{1.f, -2.5f});
}

TEST_CASE("a model with a missing or mis-shaped tensor is refused") {
  auto f = block_file(16, 2, "");
  f.source = "model.safetensors";
  auto missing = f;
  missing.tensors.erase("key_conv.bias");
  CHECK_THROWS_WITH_AS(vkattn::SelfAttentionWeights::from_safetensors(missing), doctest::Contains("key_conv.bias"),
                       vkattn::Error);
  auto key = f;
  key.tensors["key_conv.weight"] = test::random_tensor({3, 16, 1, 1});
  CHECK_THROWS_WITH_AS(vkattn::SelfAttentionWeights::from_safetensors(key), doctest::Contains("key_conv.weight"),
                       vkattn::Error);
  auto value = f;
  value.tensors["value_conv.weight"] = test::random_tensor({8, 16, 1, 1});
  CHECK_THROWS_AS(vkattn::SelfAttentionWeights::from_safetensors(value), vkattn::Error);
  auto kernel = f;
  kernel.tensors["query_conv.weight"] = test::random_tensor({2, 16, 3, 3});
  CHECK_THROWS_AS(vkattn::SelfAttentionWeights::from_safetensors(kernel), vkattn::Error);
  auto gamma = f;
  gamma.tensors["gamma"] = test::random_tensor({2});
  CHECK_THROWS_AS(vkattn::SelfAttentionWeights::from_safetensors(gamma), vkattn::Error);
  vkattn::SafeTensors none;
  CHECK_THROWS_WITH_AS(vkattn::SelfAttentionWeights::from_safetensors(none), doctest::Contains("no self-attention"),
                       vkattn::Error);
  auto two = block_file(8, 1, "a.");
  for (auto& [k, v] : block_file(8, 1, "b.").tensors) two.tensors[k] = v;
  CHECK_THROWS_WITH_AS(vkattn::SelfAttentionWeights::from_safetensors(two), doctest::Contains("prefix"), vkattn::Error);
  // The input's channels must match the model's.
  vkattn::Graph g;
  CHECK_THROWS_AS(vkattn::add_self_attention(g, g.input("x", {1, 8, 4, 4}), vkattn::SelfAttentionWeights::from_safetensors(f)),
                  vkattn::Error);
}
