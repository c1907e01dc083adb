// Writing results: every file goes to a temporary name beside its target and is
// renamed into place once complete, so a failure never leaves half a file.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace rnnscope {

/// Writes `content` to `path` atomically. Throws InvalidInput if the folder
/// cannot be written (a bad --out is the caller's input).
void write_file_atomic(const std::filesystem::path& path, const std::string& content);

/// Creates `dir` (and parents); throws InvalidInput if it is not a writable folder.
void ensure_output_dir(const std::filesystem::path& dir);

/// A table in long form for CSV: a header and rows of already formatted cells.
struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  void add_row(std::vector<std::string> row) { rows.push_back(std::move(row)); }
  std::string to_string() const;
};

/// A double with enough digits to round-trip (%.17g), "inf"/"-inf" spelled out; NaN, a value that does not exist
/// (the spread of no samples), is an empty cell.
std::string format_number(double v);

}  // namespace rnnscope
