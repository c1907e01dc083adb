#include "rnnscope/io/files.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <fstream>

#include "rnnscope/core/error.hpp"
#include "rnnscope/io/number_text.hpp"

namespace rnnscope {

void ensure_output_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    throw InvalidInput(fmt::format("cannot create output folder '{}': {}", dir.string(),
                                   ec ? ec.message() : "not a folder"));
  if (::access(dir.c_str(), W_OK) != 0)
    throw InvalidInput(fmt::format("output folder '{}' is not writable", dir.string()));
}

void write_file_atomic(const std::filesystem::path& path, const std::string& content) {
  const auto tmp = path.string() + fmt::format(".tmp{}", ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw InvalidInput(fmt::format("cannot write '{}'", path.string()));
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    if (!out) {
      std::filesystem::remove(tmp);
      throw InvalidInput(fmt::format("failed while writing '{}'", path.string()));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp);
    throw InvalidInput(fmt::format("cannot move '{}' into place: {}", path.string(), ec.message()));
  }
}

std::string CsvTable::to_string() const {
  auto line = [](const std::vector<std::string>& cells) {
    std::string s;
    for (size_t i = 0; i < cells.size(); ++i) s += (i ? "," : "") + cells[i];
    return s + "\n";
  };
  std::string s = line(header);
  for (const auto& r : rows) s += line(r);
  return s;
}

std::string format_number(double v) {
  if (std::isnan(v)) return "";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{:.17g}", v);
}

std::string number_text(double v, int digits) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v != 0 && std::abs(v) < 1e-308) return v > 0 ? "below 1e-308" : "above -1e-308";
  return fmt::format("{:.{}g}", v, digits);
}

}  // namespace rnnscope
