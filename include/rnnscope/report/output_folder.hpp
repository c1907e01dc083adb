// The folder a subcommand writes its results to, and the one way results are
// written: tables, JSON, figures and index.html all go through OutputFolder,
// which records every file it writes in a marker file (.rnnscope-output.json).
//
// An existing folder is never silently mixed with a new run. A missing or empty
// folder is used as it is. A non-empty one is refused (InvalidInput, exit 2)
// unless --force is given and the folder holds the marker of an earlier run:
// then exactly the files that marker lists are deleted first, and nothing else
// (files a user put there stay). A non-empty folder without the marker is
// refused even with --force, so a mistyped --out can never delete a user's files.
//
// A file is listed in the marker before it is written (atomically: a temporary
// "<name>.tmp<pid>" renamed over it), so a run killed at any moment leaves no
// unlisted file and no half-written one; --force and reopen (a resume) remove
// the temporaries such a run leaves, and a folder holding nothing else counts
// as empty for --force.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rnnscope/report/figures.hpp"
#include "rnnscope/io/files.hpp"
#include "rnnscope/report/html.hpp"

namespace rnnscope {

class OutputFolder {
 public:
  static constexpr const char* kMarker = ".rnnscope-output.json";

  /// Prepares dir as above; throws InvalidInput with a one-line reason.
  OutputFolder(std::filesystem::path dir, bool force);

  /// The folder of an earlier run, to continue writing into it (a resumed
  /// training run): it must hold the marker, whose list is kept; nothing is
  /// deleted. Throws InvalidInput with a one-line reason.
  static OutputFolder reopen(std::filesystem::path dir);

  const std::filesystem::path& dir() const { return dir_; }
  /// Any file (a model, a checkpoint), written atomically.
  void file(const std::string& name, const std::string& content);
  void table(const std::string& name, const CsvTable& table);
  void json(const std::string& name, const nlohmann::json& value);
  /// Writes NAME.{dat,gp,png,svg}; a figure gnuplot could not draw is remembered in not_drawn().
  void figure(const Figure& figure);
  void report(const Report& report);
  /// Every file written so far, in order.
  const std::vector<std::string>& files() const { return files_; }
  /// "NAME: reason" for each figure whose images could not be drawn.
  const std::vector<std::string>& not_drawn() const { return not_drawn_; }

 private:
  OutputFolder() = default;
  void record(const std::vector<std::string>& names);
  std::filesystem::path dir_;
  std::vector<std::string> files_;
  std::vector<std::string> not_drawn_;
};

}  // namespace rnnscope
