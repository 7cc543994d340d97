#include "sample_files.h"

#include <filesystem>
#include <system_error>
#include <vector>

namespace fs = std::filesystem;

std::string sample_file(const std::string& name) {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  const fs::path dir = ec ? fs::path(".") : exe.parent_path();
  const std::vector<fs::path> places = {dir / name, dir.parent_path() / "share" / "vkattn" / name,
                                        fs::path(VKATTN_SOURCE_SAMPLES) / "classify" / name,
                                        fs::path(VKATTN_SOURCE_SAMPLES) / "generate" / name};
  for (const fs::path& p : places)
    if (fs::is_regular_file(p, ec)) return p.string();
  return places[1].lexically_normal().string();
}
