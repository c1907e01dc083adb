#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "rnnscope/core/error.hpp"
#include "rnnscope/report/figures.hpp"
#include "rnnscope/report/html.hpp"

using namespace rnnscope;
namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// A fresh folder under the system temporary folder, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "rnnscope_figures_XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Sets PATH for the lifetime of the object (gnuplot is looked up there).
class ScopedPath {
 public:
  explicit ScopedPath(const std::string& value) {
    if (const char* old = std::getenv("PATH")) old_ = old;
    ::setenv("PATH", value.c_str(), 1);
  }
  ~ScopedPath() { ::setenv("PATH", old_.c_str(), 1); }

 private:
  std::string old_;
};

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> temporary_files(const fs::path& dir) {
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".tmp") != std::string::npos) found.push_back(e.path().filename());
  return found;
}

// Two series on a log y axis: one clean, one with NaN, +-inf, zero and a negative value.
Figure log_figure(const std::string& name) {
  Figure f;
  f.name = name;
  f.title = "Gradient norm by distance";
  f.xlabel = "distance k";
  f.ylabel = "norm";
  f.logy = true;
  Series clean;
  clean.label = "tanh";
  Series broken;
  broken.label = "relu";
  broken.style = Series::Style::linespoints;
  for (int k = 0; k < 20; ++k) {
    clean.x.push_back(k);
    clean.y.push_back(std::pow(0.8, k));
    clean.y_low.push_back(0.5 * std::pow(0.8, k));
    clean.y_high.push_back(2.0 * std::pow(0.8, k));
    broken.x.push_back(k);
    broken.y.push_back(std::pow(1.1, k));
  }
  broken.y[3] = kNaN;
  broken.y[7] = kInf;
  broken.y[8] = -kInf;
  broken.y[12] = 0.0;
  broken.y[13] = -1.0;
  f.series = {clean, broken};
  return f;
}

// Non-blank, non-comment lines of a data file, in order.
std::vector<std::string> data_lines(const std::string& text) {
  std::vector<std::string> found;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') found.push_back(line);
  return found;
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// Three unevenly spaced steps by two distances; one NaN and one infinite cell.
Figure heatmap_figure(const std::string& name) {
  Figure f;
  f.name = name;
  f.title = "Gradient ratio during training";
  f.xlabel = "training step";
  f.ylabel = "distance d";
  Heatmap h;
  h.x = {0, 100, 300};
  h.y = {0, 1};
  h.z = {-0.5, -1.25, kInf,    // d = 0
         -2.5, kNaN, -3.75};   // d = 1
  h.colour_label = "log10 ratio";
  f.heatmap = h;
  return f;
}

}  // namespace

TEST(Figures, WritesPngSvgAndDataWithMissingValues) {
  TempDir dir;
  const FigureResult r = write_figure(log_figure("grad_norm"), dir.path());
  EXPECT_EQ(r.data, dir.path() / "grad_norm.dat");
  EXPECT_EQ(r.script, dir.path() / "grad_norm.gp");
  ASSERT_TRUE(fs::exists(r.data));
  ASSERT_TRUE(fs::exists(r.script));

  // Every value that cannot be drawn on a log axis is kept as a comment, not as data.
  const std::string data = read_all(r.data);
  for (const char* line : {"# not drawn: 3 nan", "# not drawn: 7 inf", "# not drawn: 8 -inf",
                           "# not drawn: 12 0", "# not drawn: 13 -1"})
    EXPECT_NE(data.find(line), std::string::npos) << line;
  std::istringstream lines(data);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line[0] != '#') {
      EXPECT_EQ(line.find("nan"), std::string::npos) << line;
      EXPECT_EQ(line.find("inf"), std::string::npos) << line;
    }

  if (!gnuplot_available()) GTEST_SKIP() << "gnuplot not on PATH: images not checked";
  ASSERT_TRUE(r.drawn) << r.message;
  EXPECT_TRUE(r.message.empty());
  ASSERT_GT(fs::file_size(r.png), 0u);
  const std::string png = read_all(r.png);
  ASSERT_GE(png.size(), 8u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  const std::string svg = read_all(r.svg);
  EXPECT_TRUE(svg.rfind("<?xml", 0) == 0 || svg.rfind("<svg", 0) == 0) << svg.substr(0, 40);
  EXPECT_NE(svg.find("Gradient norm by distance"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_TRUE(temporary_files(dir.path()).empty());
}

TEST(Figures, ComplexPlaneAndAllMissingSeriesDraw) {
  if (!gnuplot_available()) GTEST_SKIP() << "gnuplot not on PATH";
  TempDir dir;
  Figure f;
  f.name = "eigenvalues";
  f.title = "Eigenvalues";
  f.xlabel = "Re";
  f.ylabel = "Im";
  f.equal_aspect = true;
  f.unit_circle = true;
  f.series.push_back({"W_hh", {0.5, -0.2, 0.0}, {0.1, 0.3, -0.9}, Series::Style::points, {}, {}, {}});
  f.series.push_back({"none finite", {1.0, 2.0}, {kNaN, kInf}, Series::Style::lines, {}, {}, {}});
  const FigureResult r = write_figure(f, dir.path());
  EXPECT_TRUE(r.drawn) << r.message;
  EXPECT_NE(read_all(r.svg).find("none finite (no finite values)"), std::string::npos);

  Figure empty;
  empty.name = "empty";
  empty.logx = empty.logy = true;
  empty.series.push_back({"zeros", {0.0, 1.0}, {1.0, 0.0}, Series::Style::lines, {}, {}, {}});
  empty.series.push_back({"no points", {}, {}, Series::Style::points, {}, {}, {}});
  const FigureResult e = write_figure(empty, dir.path());
  EXPECT_TRUE(e.drawn) << e.message;
  EXPECT_NE(read_all(e.svg).find("no finite values to draw"), std::string::npos);
  EXPECT_TRUE(temporary_files(dir.path()).empty());
}

TEST(Figures, CallerTextIsNeverExecuted) {
  if (!gnuplot_available()) GTEST_SKIP() << "gnuplot not on PATH";
  TempDir dir;
  Figure f = log_figure("quoted");
  // A quote ends a naive gnuplot string, backquotes run a shell command in a
  // double-quoted one, a line break starts a new command.
  f.title = "it's `touch INJECTED_TITLE` <b>&";
  f.xlabel = "x'\nsystem('touch INJECTED_LABEL')";
  f.ylabel = "@macro \\";
  f.series[0].label = "a'b\"c";
  const FigureResult r = write_figure(f, dir.path());
  ASSERT_TRUE(r.drawn) << r.message;
  EXPECT_FALSE(fs::exists(dir.path() / "INJECTED_TITLE"));
  EXPECT_FALSE(fs::exists(dir.path() / "INJECTED_LABEL"));
  const std::string svg = read_all(r.svg);
  EXPECT_NE(svg.find("touch INJECTED_TITLE"), std::string::npos);  // drawn as text
  EXPECT_NE(svg.find("&lt;b>&amp;"), std::string::npos);  // gnuplot leaves ">" as is, which XML allows
}

TEST(Figures, WithoutGnuplotTheDataIsStillWritten) {
  TempDir dir;
  // A stale image from an earlier run must not survive beside new data.
  { std::ofstream(dir.path() / "grad_norm.png") << "old"; }
  FigureResult r;
  {
    ScopedPath path("/nonexistent-rnnscope-path");
    EXPECT_FALSE(gnuplot_available());
    r = write_figure(log_figure("grad_norm"), dir.path());
  }
  EXPECT_FALSE(r.drawn);
  EXPECT_NE(r.message.find("grad_norm"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("gnuplot was not found"), std::string::npos) << r.message;
  EXPECT_TRUE(fs::exists(dir.path() / "grad_norm.dat"));
  EXPECT_TRUE(fs::exists(dir.path() / "grad_norm.gp"));
  EXPECT_FALSE(fs::exists(dir.path() / "grad_norm.png"));
  EXPECT_FALSE(fs::exists(dir.path() / "grad_norm.svg"));
}

TEST(Figures, FailingGnuplotLeavesNoPartialImage) {
  TempDir dir;
  TempDir bin;
  // A stand-in gnuplot that writes half an image under the temporary name and fails.
  const fs::path fake = bin.path() / "gnuplot";
  {
    std::ofstream out(fake);
    out << "#!/bin/sh\n"
           "suffix=$(printf '%s' \"$3\" | sed \"s/^rnnscope_suffix='\\(.*\\)'$/\\1/\")\n"
           "stem=$(basename \"$4\" .gp)\n"
           "printf partial > \"$stem.png$suffix\"\n"
           "echo 'line 7: simulated failure' >&2\n"
           "exit 3\n";
  }
  fs::permissions(fake, fs::perms::owner_all);
  FigureResult r;
  {
    ScopedPath path(bin.path().string() + ":/usr/bin:/bin");
    ASSERT_TRUE(gnuplot_available());
    r = write_figure(log_figure("broken"), dir.path());
  }
  EXPECT_FALSE(r.drawn);
  EXPECT_NE(r.message.find("exit code 3"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("simulated failure"), std::string::npos) << r.message;
  EXPECT_FALSE(fs::exists(dir.path() / "broken.png"));
  EXPECT_FALSE(fs::exists(dir.path() / "broken.svg"));
  EXPECT_TRUE(fs::exists(dir.path() / "broken.dat"));
  EXPECT_TRUE(temporary_files(dir.path()).empty());
}

TEST(Figures, BadInputThrows) {
  TempDir dir;
  EXPECT_THROW(write_figure(log_figure("x"), "/proc/rnnscope-no-such-folder/figures"), InvalidInput);
  for (const char* name : {"", "../escape", "a/b", "-option", "sp ace", "q'uote"})
    EXPECT_THROW(write_figure(log_figure(name), dir.path()), InvalidInput) << name;

  Figure f = log_figure("sizes");
  f.series[1].y.pop_back();
  try {
    write_figure(f, dir.path());
    ADD_FAILURE() << "no throw for x/y of different sizes";
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("x has 20 values, y has 19"), std::string::npos) << e.what();
  }
  f = log_figure("band");
  f.series[0].y_high.clear();
  EXPECT_THROW(write_figure(f, dir.path()), InvalidInput);
  f = log_figure("band");
  f.series[0].y_low.pop_back();
  f.series[0].y_high.pop_back();
  EXPECT_THROW(write_figure(f, dir.path()), InvalidInput);
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(Figures, PanelsAndMarksDrawIntoOneImage) {
  TempDir dir;
  Figure f = log_figure("two_panels");
  f.marks.push_back({5, 1e-3, "leaves at L = 5", 1, 7});
  Figure below;
  below.title = "Ratio panel";
  below.series.push_back({});
  below.series.back().label = "ratio";
  below.series.back().x = {1, 2, 3};
  below.series.back().y = {1.0, 1.5, 2.25};
  f.panels.push_back(below);
  const FigureResult r = write_figure(f, dir.path());
  const std::string gp = read_all(r.script);
  // One multiplot per terminal, each panel from gnuplot's defaults, the second 380 pixels under the first.
  EXPECT_NE(gp.find("set terminal pngcairo size 900,980"), std::string::npos) << gp;
  size_t multiplots = 0;
  for (size_t at = gp.find("\nset multiplot"); at != std::string::npos; at = gp.find("\nset multiplot", at + 1))
    ++multiplots;
  EXPECT_EQ(multiplots, 2u);
  EXPECT_NE(gp.find("set title 'Ratio panel'"), std::string::npos);
  EXPECT_NE(gp.find("set label 'leaves at L = 5' at first 5, first 0.001"), std::string::npos) << gp;
  // The panel's points are a block of the one data file.
  EXPECT_NE(read_all(r.data).find("series 0 'ratio'"), std::string::npos);
  // A mark off a log axis and a panel holding panels are refused.
  Figure bad = log_figure("bad_mark");
  bad.marks.push_back({1, -1, "below zero"});
  EXPECT_THROW(write_figure(bad, dir.path()), InvalidInput);
  Figure nested = log_figure("nested");
  nested.panels.push_back(f);
  EXPECT_THROW(write_figure(nested, dir.path()), InvalidInput);
  if (!gnuplot_available()) GTEST_SKIP() << "gnuplot not on PATH: images not checked";
  ASSERT_TRUE(r.drawn) << r.message;
  const std::string svg = read_all(r.svg);
  EXPECT_NE(svg.find("Ratio panel"), std::string::npos);
  EXPECT_NE(svg.find("leaves at L = 5"), std::string::npos);
}

TEST(Figures, HeatmapDataHoldsEveryCellRowByRow) {
  TempDir dir;
  FigureResult r;
  {
    // The data and script do not depend on gnuplot.
    ScopedPath path("/nonexistent-rnnscope-path");
    r = write_figure(heatmap_figure("ratio"), dir.path());
  }
  EXPECT_FALSE(r.drawn);
  const std::string data = read_all(r.data);
  // x y z x_low x_high y_low y_high: each cell reaches halfway to its
  // neighbours, the outer ones as far out as inside (100 - 0 and 300 - 100
  // apart: edges -50, 50, 200, 400).
  const std::vector<std::string> expected = {
      "0 0 -0.5 -50 50 -0.5 0.5",
      "100 0 -1.25 50 200 -0.5 0.5",
      "0 1 -2.5 -50 50 0.5 1.5",
      "300 1 -3.75 200 400 0.5 1.5",
  };
  EXPECT_EQ(data_lines(data), expected) << data;
  // The cells left blank are recorded, not drawn.
  EXPECT_NE(data.find("# not drawn: 300 0 inf"), std::string::npos) << data;
  EXPECT_NE(data.find("# not drawn: 100 1 nan"), std::string::npos) << data;
  EXPECT_LT(data.find("# not drawn: 300 0 inf"), data.find("0 1 -2.5"));
  EXPECT_NE(data.find("# block 0: heatmap 'log10 ratio': x y z x_low x_high y_low y_high"), std::string::npos)
      << data;

  const std::string script = read_all(r.script);
  EXPECT_NE(script.find("using 1:2:4:5:6:7:3 with boxxyerror"), std::string::npos) << script;
  EXPECT_NE(script.find("set cbrange [-3.75:-0.5]"), std::string::npos) << script;  // the finite values
  EXPECT_NE(script.find("set xrange [-50:400]"), std::string::npos) << script;     // the outer cell edges
  EXPECT_NE(script.find("set yrange [-0.5:1.5]"), std::string::npos) << script;
  EXPECT_NE(script.find("set palette defined"), std::string::npos) << script;
  EXPECT_NE(script.find("'log10 ratio'"), std::string::npos) << script;

  // A fixed colour range and series drawn over the cells.
  Figure f = heatmap_figure("fixed");
  f.heatmap->zmin = -8;
  f.heatmap->zmax = 0;
  f.series.push_back({"edge", {0, 300}, {0.5, 1.0}, Series::Style::lines, {}, {}, {}});
  {
    ScopedPath path("/nonexistent-rnnscope-path");
    r = write_figure(f, dir.path());
  }
  const std::string fixed = read_all(r.script);
  EXPECT_NE(fixed.find("set cbrange [-8:0]"), std::string::npos) << fixed;
  EXPECT_NE(fixed.find("set cbtics ('-8' -8, '-7' -7, "), std::string::npos) << fixed;
  const auto cells = fixed.find("with boxxyerror"), curve = fixed.find("title 'edge'");
  ASSERT_NE(curve, std::string::npos) << fixed;
  EXPECT_LT(cells, curve);  // the series on top
  EXPECT_EQ(data_lines(read_all(r.data)).size(), 4u + 2u);
}

TEST(Figures, HeatmapIsDrawnWithBlankCellsLeftOut) {
  if (!gnuplot_available()) GTEST_SKIP() << "gnuplot not on PATH";
  TempDir dir;
  const FigureResult r = write_figure(heatmap_figure("ratio"), dir.path());
  ASSERT_TRUE(r.drawn) << r.message;
  const std::string png = read_all(r.png);
  ASSERT_GE(png.size(), 8u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  const std::string svg = read_all(r.svg);
  EXPECT_NE(svg.find("log10 ratio"), std::string::npos);
  EXPECT_NE(svg.find("Gradient ratio during training"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_TRUE(temporary_files(dir.path()).empty());

  // Each drawn cell is one filled polygon in the svg: the same grid with every
  // value finite has exactly two more (the colour box is the same in both).
  Figure full = heatmap_figure("full");
  full.heatmap->z = {-0.5, -1.25, -2, -2.5, -3, -3.75};
  const FigureResult all = write_figure(full, dir.path());
  ASSERT_TRUE(all.drawn) << all.message;
  EXPECT_EQ(count_of(read_all(all.svg), "<polygon"), count_of(svg, "<polygon") + 2);

  // No finite value at all: the empty grid is still drawn, with a note.
  Figure none = heatmap_figure("none");
  for (double& z : none.heatmap->z) z = kNaN;
  const FigureResult e = write_figure(none, dir.path());
  ASSERT_TRUE(e.drawn) << e.message;
  EXPECT_NE(read_all(e.svg).find("no finite values to draw"), std::string::npos);
  EXPECT_NE(read_all(e.script).find("set xrange [-50:400]"), std::string::npos);
}

TEST(Figures, BadHeatmapThrows) {
  TempDir dir;
  Figure f = heatmap_figure("sizes");
  f.heatmap->z.pop_back();
  try {
    write_figure(f, dir.path());
    ADD_FAILURE() << "no throw for z of the wrong size";
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("z has 5 values, x.size() * y.size() is 3 * 2 = 6"), std::string::npos)
        << e.what();
  }
  f = heatmap_figure("order");
  f.heatmap->x = {0, 300, 100};
  EXPECT_THROW(write_figure(f, dir.path()), InvalidInput);
  f = heatmap_figure("repeat");
  f.heatmap->y = {1, 1};
  EXPECT_THROW(write_figure(f, dir.path()), InvalidInput);
  f = heatmap_figure("nan_centre");
  f.heatmap->y = {0, kNaN};
  EXPECT_THROW(write_figure(f, dir.path()), InvalidInput);
  f = heatmap_figure("log");
  f.logy = true;
  EXPECT_THROW(write_figure(f, dir.path()), InvalidInput);
  f = heatmap_figure("range");
  f.heatmap->zmin = 0;
  f.heatmap->zmax = -8;
  EXPECT_THROW(write_figure(f, dir.path()), InvalidInput);
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(Report, ListsEverySectionAndFileEscaped) {
  TempDir dir;
  { std::ofstream(dir.path() / "grad_norm.png") << "png"; }
  { std::ofstream(dir.path() / "eigenvalues.dat") << "0 0\n"; }
  Report report;
  report.title = "Vanishing gradients";
  report.subtitle = "Elman tanh, H = 64";
  report.facts = {{"version", "0.1.0"}, {"seed", "42"}, {"time taken", "1.5 s"}};
  report.sections.push_back({"gradients", "Gradient norms", "They shrink geometrically.", {"grad_norm"},
                             {"grad_norm.csv"}, ""});
  report.sections.push_back({"spectrum", "Spectrum <b>&", "Eigenvalues \"inside\" the circle.",
                             {"eigenvalues", "ghost"}, {"eigen values.csv", "spectrum.json"},
                             "<table><tr><td>0.95</td></tr></table>"});
  report.sections.push_back({"gradients", "Same id again", "", {}, {}, ""});
  write_report_html(report, dir.path());
  const std::string html = read_all(dir.path() / "index.html");

  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  for (const char* text : {"Vanishing gradients", "Elman tanh, H = 64", "0.1.0", "time taken", "Gradient norms",
                           "Same id again", "They shrink geometrically.", "grad_norm.png", "grad_norm.svg",
                           "grad_norm.csv", "eigen%20values.csv", "spectrum.json", "eigenvalues.dat",
                           "<table><tr><td>0.95</td></tr></table>"})
    EXPECT_NE(html.find(text), std::string::npos) << text;
  EXPECT_NE(html.find("Spectrum &lt;b&gt;&amp;"), std::string::npos);
  EXPECT_EQ(html.find("Spectrum <b>&"), std::string::npos);
  EXPECT_NE(html.find("Eigenvalues &quot;inside&quot;"), std::string::npos);
  // The figure whose image is missing is announced, not shown as a broken image.
  EXPECT_EQ(html.find("src=\"eigenvalues.png\""), std::string::npos);
  EXPECT_NE(html.find("src=\"grad_norm.png\""), std::string::npos);
  EXPECT_NE(html.find("<span class=\"mono\">ghost</span> was not drawn"), std::string::npos);
  EXPECT_EQ(html.find("ghost.dat"), std::string::npos);  // no link to a file that is not there
  // Table of contents: unique anchors, one per section.
  EXPECT_NE(html.find("href=\"#gradients\""), std::string::npos);
  EXPECT_NE(html.find("href=\"#spectrum\""), std::string::npos);
  EXPECT_NE(html.find("href=\"#gradients-2\""), std::string::npos);
  EXPECT_NE(html.find("id=\"gradients-2\""), std::string::npos);
  // Self-contained: no script, nothing fetched from elsewhere.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_TRUE(temporary_files(dir.path()).empty());

  EXPECT_THROW(write_report_html(report, "/proc/rnnscope-no-such-folder/report"), InvalidInput);
}

TEST(Report, EscapesEveryHtmlSpecialCharacter) {
  EXPECT_EQ(html_escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(html_escape("plain text, 100%"), "plain text, 100%");
}
