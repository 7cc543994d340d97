#include "atomic_file.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "vkattn/error.h"

void write_file_atomically(const std::string& path, const std::string& bytes) {
  const std::string partial = path + ".partial";
  {
    std::ofstream out(partial, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (out && std::rename(partial.c_str(), path.c_str()) == 0) return;
  }
  std::remove(partial.c_str());
  throw vkattn::Error("Cannot write '" + path + "'.");
}

void make_output_folder(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    throw vkattn::Error("Cannot make the output folder '" + dir + "'" + (ec ? " (" + ec.message() + ")" : "") + ".");
}
