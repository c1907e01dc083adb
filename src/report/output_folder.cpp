#include "rnnscope/report/output_folder.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "rnnscope/core/error.hpp"

namespace fs = std::filesystem;

namespace rnnscope {

namespace {

bool is_empty_dir(const fs::path& dir) {
  std::error_code ec;
  return fs::is_empty(dir, ec) && !ec;
}

/// Whether `name` is one of write_file_atomic's temporaries ("<file>.tmp<pid>"),
/// which a killed run can leave behind.
bool is_temporary(const std::string& name) {
  const auto at = name.rfind(".tmp");
  return at != std::string::npos && at + 4 < name.size() &&
         std::all_of(name.begin() + static_cast<std::ptrdiff_t>(at + 4), name.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

/// Removes the temporaries a killed run left in `dir`.
void remove_temporaries(const fs::path& dir) {
  std::error_code ec;
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_regular_file(ec) && is_temporary(entry.path().filename().string())) found.push_back(entry.path());
  for (const auto& p : found) fs::remove(p, ec);
}

/// Whether `dir` holds nothing but such temporaries (a run killed while writing its marker).
bool only_temporaries(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (!is_temporary(entry.path().filename().string())) return false;
  return !ec;
}

/// The files an earlier run's marker lists; throws InvalidInput if it is unreadable.
std::vector<std::string> marker_files(const fs::path& marker) {
  std::ifstream in(marker);
  std::stringstream s;
  s << in.rdbuf();
  try {
    const auto j = nlohmann::json::parse(s.str());
    std::vector<std::string> files = j.at("files").get<std::vector<std::string>>();
    for (const auto& f : files)
      require(!f.empty() && f.find('/') == std::string::npos && f != "." && f != "..",
              fmt::format("{} lists '{}', which is not a file name", marker.string(), f));
    return files;
  } catch (const nlohmann::json::exception&) {
    throw InvalidInput(fmt::format("{} is not a readable rnnscope marker; remove the folder by hand", marker.string()));
  }
}

}  // namespace

OutputFolder::OutputFolder(fs::path dir, bool force) : dir_(std::move(dir)) {
  require(!dir_.empty(), "--out must name a folder");
  std::error_code ec;
  if (fs::exists(dir_, ec)) {
    require(fs::is_directory(dir_, ec), fmt::format("--out {} exists and is not a folder", dir_.string()));
    if (!is_empty_dir(dir_) && force && only_temporaries(dir_)) remove_temporaries(dir_);
    if (!is_empty_dir(dir_)) {
      const fs::path marker = dir_ / kMarker;
      require(force, fmt::format("output folder {} is not empty; choose another --out, or pass --force to replace "
                                 "an earlier rnnscope run there",
                                 dir_.string()));
      require(fs::exists(marker, ec), fmt::format("output folder {} is not empty and holds no earlier rnnscope run ({}"
                                                  " missing); --force only replaces rnnscope's own files",
                                                  dir_.string(), kMarker));
      for (const auto& f : marker_files(marker)) fs::remove(dir_ / f, ec);
      fs::remove(marker, ec);
      remove_temporaries(dir_);
    }
  }
  ensure_output_dir(dir_);
  // The marker goes first, so even an interrupted run can be replaced with --force.
  write_file_atomic(dir_ / kMarker, nlohmann::json{{"tool", "rnnscope"}, {"files", files_}}.dump(1) + "\n");
}

OutputFolder OutputFolder::reopen(fs::path dir) {
  OutputFolder out;
  out.dir_ = std::move(dir);
  const fs::path marker = out.dir_ / kMarker;
  std::error_code ec;
  require(fs::is_directory(out.dir_, ec), fmt::format("{} is not a folder", out.dir_.string()));
  require(fs::exists(marker, ec), fmt::format("{} holds no rnnscope run ({} missing)", out.dir_.string(), kMarker));
  out.files_ = marker_files(marker);
  remove_temporaries(out.dir_);
  return out;
}

void OutputFolder::file(const std::string& name, const std::string& content) {
  record({name});  // listed first: a run killed while writing leaves nothing unlisted
  write_file_atomic(dir_ / name, content);
}

void OutputFolder::record(const std::vector<std::string>& names) {
  for (const auto& name : names)
    if (std::find(files_.begin(), files_.end(), name) == files_.end()) files_.push_back(name);
  write_file_atomic(dir_ / kMarker, nlohmann::json{{"tool", "rnnscope"}, {"files", files_}}.dump(1) + "\n");
}

void OutputFolder::table(const std::string& name, const CsvTable& table) {
  record({name});  // listed first: a run killed while writing leaves nothing unlisted
  write_file_atomic(dir_ / name, table.to_string());
}

void OutputFolder::json(const std::string& name, const nlohmann::json& value) {
  record({name});  // listed first: a run killed while writing leaves nothing unlisted
  write_file_atomic(dir_ / name, value.dump(2) + "\n");
}

void OutputFolder::figure(const Figure& figure) {
  // Recorded before drawing: a run interrupted inside gnuplot leaves nothing unlisted.
  record({figure.name + ".dat", figure.name + ".gp", figure.name + ".png", figure.name + ".svg"});
  const FigureResult r = write_figure(figure, dir_);
  if (!r.drawn) not_drawn_.push_back(figure.name + ": " + r.message);
}

void OutputFolder::report(const Report& report) {
  write_report_html(report, dir_);
  record({"index.html"});
}

}  // namespace rnnscope
