// A fresh directory under the system's temporary directory for one test, removed afterwards.
#pragma once
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace test {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() / ("vkattn-test-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // The path of `name` inside it.
  std::string file(const std::string& name) const { return (path / name).string(); }
  // Every file under it, recursively.
  std::vector<std::filesystem::path> files() const {
    std::vector<std::filesystem::path> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(path))
      if (e.is_regular_file()) out.push_back(e.path());
    return out;
  }
};

}  // namespace test
