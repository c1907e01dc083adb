// Running the rnnscope executable from a test, and checking the files it writes.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace cli_testing {

namespace fs = std::filesystem;

struct Run {
  int code;
  std::string out;  // stdout and stderr together
};

inline Run run(const std::string& args) {
  const std::string cmd = std::string(RNNSCOPE_CLI_PATH) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

inline fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("rnnscope_" + name + std::to_string(::getpid()));
  fs::remove_all(d);
  return d;
}

inline std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The cells of a CSV file, row by row (the header first); a trailing comma gives a last empty cell.
inline std::vector<std::vector<std::string>> csv_cells(const fs::path& p) {
  std::istringstream in(read(p));
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream s(line);
    std::string cell;
    while (std::getline(s, cell, ',')) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.push_back("");
    rows.push_back(cells);
  }
  return rows;
}

/// Every file in dir is well formed for its kind: JSON parses, CSV has a header
/// and rows of the header's width, PNG has the PNG signature, SVG an <svg
/// element; every href and src of index.html names a file that exists. Returns
/// the set of file names.
inline std::set<std::string> check_folder(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    names.insert(name);
    const std::string ext = e.path().extension().string();
    const std::string body = read(e.path());
    EXPECT_FALSE(body.empty()) << name;
    EXPECT_EQ(name.find(".tmp"), std::string::npos) << name;
    if (ext == ".json") {
      EXPECT_TRUE(nlohmann::json::accept(body)) << name;
    } else if (ext == ".csv") {
      std::istringstream in(body);
      std::string line;
      EXPECT_TRUE(std::getline(in, line)) << name;
      const auto width = std::count(line.begin(), line.end(), ',');
      int rows = 0;
      while (std::getline(in, line)) {
        ++rows;
        EXPECT_EQ(std::count(line.begin(), line.end(), ','), width) << name << ": " << line;
      }
      EXPECT_GT(rows, 0) << name;
    } else if (ext == ".png") {
      EXPECT_EQ(body.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << name;
    } else if (ext == ".svg") {
      EXPECT_NE(body.find("<svg"), std::string::npos) << name;
    }
  }
  const std::string html = read(dir / "index.html");
  const std::regex ref("(href|src)=\"([^\"#][^\"]*)\"");
  int refs = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), ref); it != std::sregex_iterator(); ++it) {
    ++refs;
    EXPECT_TRUE(fs::exists(dir / (*it)[2].str())) << "index.html links to missing " << (*it)[2];
  }
  EXPECT_GT(refs, 0);
  return names;
}

}  // namespace cli_testing
