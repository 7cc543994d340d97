#include "output_folder.h"

#include <filesystem>
#include <system_error>

#include "vkattn/error.h"

void make_output_folder(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    throw vkattn::Error("Cannot make the output folder '" + dir + "'" + (ec ? " (" + ec.message() + ")" : "") + ".");
}
