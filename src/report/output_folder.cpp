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
  return out;
}

void OutputFolder::file(const std::string& name, const std::string& content) {
  write_file_atomic(dir_ / name, content);
  record({name});
}

void OutputFolder::record(const std::vector<std::string>& names) {
  for (const auto& name : names)
    if (std::find(files_.begin(), files_.end(), name) == files_.end()) files_.push_back(name);
  write_file_atomic(dir_ / kMarker, nlohmann::json{{"tool", "rnnscope"}, {"files", files_}}.dump(1) + "\n");
}

void OutputFolder::table(const std::string& name, const CsvTable& table) {
  write_file_atomic(dir_ / name, table.to_string());
  record({name});
}

void OutputFolder::json(const std::string& name, const nlohmann::json& value) {
  write_file_atomic(dir_ / name, value.dump(2) + "\n");
  record({name});
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
