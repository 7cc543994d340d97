// The persistent pipeline cache: its file format refuses anything not whole, intact and written for
// this device; a Context saves it and the next one loads it; a bad file is survived and replaced.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>

#include "app_device.h"
#include "context_impl.h"
#include "gpu.h"
#include "pipeline_cache.h"
#include "temp_dir.h"

namespace {

namespace fs = std::filesystem;

using test::TempDir;

// Sets (or, with nullopt, unsets) an environment variable for one scope, then restores it.
class Env {
 public:
  Env(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    value ? setenv(name, value->c_str(), 1) : unsetenv(name);
  }
  ~Env() { old_ ? setenv(name_, old_->c_str(), 1) : unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

std::vector<uint8_t> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

vkattn::PipelineCacheKey some_key() {
  vkattn::PipelineCacheKey key{0x10005, 0x1234, 0x5800006};
  for (size_t i = 0; i < key.uuid.size(); ++i) key.uuid[i] = static_cast<uint8_t>(0xa0 + i);
  return key;
}

std::vector<uint8_t> random_bytes(size_t n) {
  static std::mt19937 rng(std::random_device{}());
  std::vector<uint8_t> out(n);
  for (auto& b : out) b = static_cast<uint8_t>(rng());
  return out;
}

// A self-attention block (several pipelines) on a Context with the given cache choice.
struct Run {
  vkattn::HostTensor y;
  size_t loaded = 0;  // bytes of driver data the cache was seeded with
  vkattn::PipelineCacheKey key;
};

Run run_block(std::optional<std::string> cache_path) {
  static const auto w = test::random_weights(12, 3);
  static const auto x = test::random_tensor({2, 12, 5, 7});
  auto options = test::validated_options();
  options.pipeline_cache_path = std::move(cache_path);
  vkattn::Context ctx = vkattn::Context::create(options);
  vkattn::Graph g;
  g.output("y", vkattn::add_self_attention(g, g.input("x", x.shape), w).y);
  vkattn::Executor exec(ctx, g);
  exec.set_input("x", x);
  exec.run();
  return {exec.output("y"), ctx.impl().pipeline_cache_loaded.size(), ctx.impl().pipeline_cache_key};
}

}  // namespace

TEST_CASE("a pipeline cache file round-trips its payload") {
  const auto key = some_key();
  for (size_t n : {0, 1, 32, 1000}) {
    const auto data = random_bytes(n);
    const auto file = vkattn::pack_pipeline_cache(data, key);
    CHECK(file.size() == 56 + n);
    CHECK(std::string(file.begin(), file.begin() + 8) == "VKATTNPC");
    const auto back = vkattn::unpack_pipeline_cache(file, key);
    REQUIRE(back);
    CHECK(*back == data);
  }
}

TEST_CASE("a pipeline cache file that is not whole, not intact or not for this device is refused") {
  const auto key = some_key();
  const auto data = random_bytes(40);
  const auto file = vkattn::pack_pipeline_cache(data, key);
  for (size_t i = 0; i < file.size(); ++i)
    for (uint8_t flip : {0x01, 0x80, 0xff}) {
      auto bad = file;
      bad[i] ^= flip;
      INFO("byte " << i << " xor " << int(flip));
      CHECK_FALSE(vkattn::unpack_pipeline_cache(bad, key));
    }
  for (size_t n = 0; n < file.size(); ++n)
    CHECK_FALSE(vkattn::unpack_pipeline_cache(std::span(file).first(n), key));
  for (size_t extra : {1, 7, 100}) {
    auto longer = file;
    longer.resize(file.size() + extra);
    CHECK_FALSE(vkattn::unpack_pipeline_cache(longer, key));
  }
  auto other = key;
  other.vendor_id += 1;
  CHECK_FALSE(vkattn::unpack_pipeline_cache(file, other));
  other = key;
  other.device_id += 1;
  CHECK_FALSE(vkattn::unpack_pipeline_cache(file, other));
  other = key;
  other.driver_version += 1;
  CHECK_FALSE(vkattn::unpack_pipeline_cache(file, other));
  for (size_t i = 0; i < key.uuid.size(); ++i) {
    other = key;
    other.uuid[i] ^= 1;
    CHECK_FALSE(vkattn::unpack_pipeline_cache(file, other));
  }
  for (size_t n : {0, 8, 55, 56, 57, 4096}) CHECK_FALSE(vkattn::unpack_pipeline_cache(random_bytes(n), key));
}

TEST_CASE("saving a pipeline cache creates its directory, replaces the file whole and leaves nothing else") {
  TempDir dir;
  const auto key = some_key();
  const fs::path path = dir.path / "a" / "b" / "cache.bin";
  CHECK(vkattn::load_pipeline_cache(path, key).empty());  // missing
  const auto data = random_bytes(100);
  CHECK(vkattn::save_pipeline_cache(path, data, key));
  CHECK(vkattn::load_pipeline_cache(path, key) == data);
  const auto newer = random_bytes(50);
  CHECK(vkattn::save_pipeline_cache(path, newer, key));
  CHECK(vkattn::load_pipeline_cache(path, key) == newer);
  CHECK(dir.files() == std::vector<fs::path>{path});

  // A directory where the file should be, or a file where a directory should be: false, no leftovers.
  CHECK(vkattn::load_pipeline_cache(dir.path / "a", key).empty());
  CHECK_FALSE(vkattn::save_pipeline_cache(dir.path / "a", data, key));
  CHECK_FALSE(vkattn::save_pipeline_cache(path / "under_a_file.bin", data, key));
  CHECK(dir.files() == std::vector<fs::path>{path});
}

TEST_CASE("the default pipeline cache path: XDG_CACHE_HOME, else HOME, and VKATTN_CACHE=off") {
  const auto key = some_key();
  Env cache("VKATTN_CACHE", std::nullopt);
  {
    Env xdg("XDG_CACHE_HOME", "/somewhere/cache");
    const auto path = vkattn::default_pipeline_cache_path(key);
    CHECK(path.parent_path() == fs::path("/somewhere/cache/vkattn"));
    CHECK(path.filename() == "pipelines-10005-1234-a0a1a2a3a4a5a6a7a8a9aaabacadaeaf.bin");
    Env off("VKATTN_CACHE", "off");
    CHECK(vkattn::default_pipeline_cache_path(key).empty());
  }
  Env home("HOME", "/home/someone");
  {
    Env xdg("XDG_CACHE_HOME", std::nullopt);
    CHECK(vkattn::default_pipeline_cache_path(key).parent_path() == fs::path("/home/someone/.cache/vkattn"));
  }
  {
    Env xdg("XDG_CACHE_HOME", "relative/cache");  // not absolute: ignored, as the XDG spec says
    CHECK(vkattn::default_pipeline_cache_path(key).parent_path() == fs::path("/home/someone/.cache/vkattn"));
  }
  Env no_xdg("XDG_CACHE_HOME", std::nullopt);
  Env no_home("HOME", std::nullopt);
  CHECK(vkattn::default_pipeline_cache_path(key).empty());
}

TEST_CASE("a Context saves its pipeline cache and the next one starts from it") {
  test::NoValidationMessages guard;
  TempDir dir;
  const fs::path path = dir.path / "pipelines.bin";
  const Run cold = run_block(path.string());
  CHECK(cold.loaded == 0);
  REQUIRE(fs::exists(path));
  const auto payload = vkattn::unpack_pipeline_cache(read_bytes(path), cold.key);
  REQUIRE(payload);
  CHECK(!payload->empty());

  const Run warm = run_block(path.string());
  CHECK(warm.loaded == payload->size());
  CHECK(warm.y.data == cold.y.data);
  CHECK(vkattn::unpack_pipeline_cache(read_bytes(path), cold.key));
  CHECK(dir.files() == std::vector<fs::path>{path});
}

TEST_CASE("a garbage, truncated or stale pipeline cache file is survived and replaced") {
  test::NoValidationMessages guard;
  TempDir dir;
  const fs::path path = dir.path / "pipelines.bin";
  const Run reference = run_block(std::string());  // no file at all
  run_block(path.string());
  const auto good = read_bytes(path);
  REQUIRE(vkattn::unpack_pipeline_cache(good, reference.key));
  auto stale_key = reference.key;
  stale_key.driver_version ^= 1;

  const std::vector<std::pair<const char*, std::vector<uint8_t>>> bad = {
      {"garbage", random_bytes(3000)},
      {"empty", {}},
      {"truncated", std::vector<uint8_t>(good.begin(), good.end() - 1)},
      {"stale", vkattn::pack_pipeline_cache(*vkattn::unpack_pipeline_cache(good, reference.key), stale_key)},
  };
  for (const auto& [name, bytes] : bad) {
    INFO(name);
    write_bytes(path, bytes);
    const Run run = run_block(path.string());
    CHECK(run.loaded == 0);
    CHECK(run.y.data == reference.y.data);
    CHECK(vkattn::unpack_pipeline_cache(read_bytes(path), reference.key));
  }
  CHECK(dir.files() == std::vector<fs::path>{path});
}

TEST_CASE("the default path is used unless VKATTN_CACHE=off, and an empty path writes nothing") {
  test::NoValidationMessages guard;
  TempDir dir;
  // The driver and the validation layer keep caches of their own under XDG_CACHE_HOME too.
  const fs::path ours = dir.path / "vkattn";
  Env xdg("XDG_CACHE_HOME", dir.path.string());
  {
    Env off("VKATTN_CACHE", "off");
    run_block(std::nullopt);
    CHECK_FALSE(fs::exists(ours));
  }
  Env on("VKATTN_CACHE", std::nullopt);
  run_block(std::string());
  CHECK_FALSE(fs::exists(ours));
  const Run run = run_block(std::nullopt);
  const auto path = vkattn::default_pipeline_cache_path(run.key);
  CHECK(path.parent_path() == ours);
  CHECK(std::vector<fs::path>(fs::directory_iterator(ours), {}) == std::vector<fs::path>{path});
  CHECK(vkattn::unpack_pipeline_cache(read_bytes(path), run.key));
}

TEST_CASE("an adopted device's Context saves and loads the pipeline cache at the path given") {
  TempDir dir;
  const fs::path path = dir.path / "adopted.bin";
  test::AppDevice app;
  for (int pass = 0; pass < 2; ++pass) {
    vkattn::ContextOptions options;
    options.pipeline_cache_path = path.string();
    vkattn::Context ctx = vkattn::Context::adopt({app.instance, app.physical, app.device, app.queue, app.family}, options);
    CHECK((ctx.impl().pipeline_cache_loaded.size() > 0) == (pass == 1));
    vkattn::Graph g;
    g.output("y", vkattn::ops::relu(g, g.input("x", {3, 5})));
    vkattn::Executor exec(ctx, g);
    exec.set_input("x", test::random_tensor({3, 5}));
    exec.run();
  }
  CHECK(fs::exists(path));
  for (const auto& m : app.messages) FAIL_CHECK("validation message: " << m);
}
