#include "rnnscope/report/figures.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <numbers>
#include <sstream>
#include <string_view>

#include "rnnscope/core/error.hpp"
#include "rnnscope/io/files.hpp"

namespace rnnscope {
namespace {

// Okabe-Ito colours (distinguishable with the common colour-vision
// deficiencies), ordered so that neighbours also differ in lightness; the
// dash and point cycles have coprime lengths with it, so two series share a
// colour only together with a different dash type and point shape.
constexpr std::array<const char*, 7> kColours = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                 "#E69F00", "#56B4E9", "#000000"};
constexpr std::array<int, 5> kDashes = {1, 2, 3, 4, 5};  // solid, dash, dot, dash-dot, dash-dot-dot
constexpr std::array<int, 8> kPoints = {7, 5, 9, 13, 6, 4, 8, 12};  // filled then open shapes

constexpr int kWidth = 900, kHeight = 600;
constexpr int kPanelHeight = 380;  // each of Figure::panels below the first
constexpr const char* kFont = "Sans,13";
constexpr auto kGnuplotTimeout = std::chrono::seconds(120);

// Text placed inside a gnuplot single-quoted string. Single quotes disable
// gnuplot's backquote and macro substitution; a quote is written twice. Line
// breaks and other control characters would end the command, so they become
// spaces.
std::string gp_quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\'') out += "''";
    else if (u < 0x20 || u == 0x7f) out += ' ';
    else out += c;
  }
  return out + "'";
}

// Characters (UTF-8 code points, not bytes) in text: labels hold Greek
// letters, sub- and superscripts written as Unicode.
size_t width_of(std::string_view text) {
  return static_cast<size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Text broken into lines of at most `width` characters at spaces. A word
// longer than the width stays whole on its own line.
std::vector<std::string> wrapped_lines(std::string_view text, size_t width) {
  std::vector<std::string> lines(1);
  size_t start = 0;
  while (start <= text.size()) {
    const size_t space = text.find(' ', start);
    const std::string_view word = text.substr(start, space == std::string_view::npos ? std::string_view::npos : space - start);
    std::string& last = lines.back();
    if (!last.empty() && width_of(last) + 1 + width_of(word) > width) lines.emplace_back(word);
    else last += (last.empty() ? "" : " ") + std::string(word);
    if (space == std::string_view::npos) break;
    start = space + 1;
  }
  return lines;
}

// Long text as a gnuplot string expression broken into lines (wrapped_lines):
// 'first line'."\n".'second line'. The line break is the only double-quoted
// part and holds no caller text.
std::string gp_wrapped(std::string_view text, size_t width) {
  const std::vector<std::string> lines = wrapped_lines(text, width);
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) out += (i ? ".\"\\n\"." : "") + gp_quote(lines[i]);
  return out;
}

// Caller text in a comment line of the data file.
std::string one_line(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return out;
}

bool valid_stem(const std::string& name) {
  if (name.empty() || name.size() > 200) return false;
  const auto ok_first = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!ok_first(name.front())) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) { return ok_first(c) || c == '.' || c == '-'; });
}

void check_figure(const Figure& f) {
  require(valid_stem(f.name),
          fmt::format("figure name '{}' is not a valid file stem (letters, digits, '_', '.', '-'; "
                      "starting with a letter, digit or '_')",
                      one_line(f.name)));
  for (size_t s = 0; s < f.series.size(); ++s) {
    const Series& ser = f.series[s];
    const auto who = fmt::format("figure '{}', series {} '{}'", f.name, s, one_line(ser.label));
    require(ser.x.size() == ser.y.size(),
            fmt::format("{}: x has {} values, y has {}", who, ser.x.size(), ser.y.size()));
    require(ser.y_low.empty() == ser.y_high.empty(),
            fmt::format("{}: a band needs both y_low and y_high (got {} and {} values)", who,
                        ser.y_low.size(), ser.y_high.size()));
    require(ser.y_low.empty() || (ser.y_low.size() == ser.x.size() && ser.y_high.size() == ser.x.size()),
            fmt::format("{}: band has y_low {} and y_high {} values, x has {}", who, ser.y_low.size(),
                        ser.y_high.size(), ser.x.size()));
    require(ser.colour >= -1 && ser.colour <= Series::grey,
            fmt::format("{}: colour {} is not a palette index (0..{}) or -1", who, ser.colour, Series::grey));
    require(ser.dash >= 0 && ser.dash <= 5, fmt::format("{}: dash type {} is not 0..5", who, ser.dash));
    require(ser.point >= 0 && ser.point <= 15, fmt::format("{}: point type {} is not 0..15", who, ser.point));
    require(ser.markers >= 0, fmt::format("{}: markers must be >= 0, got {}", who, ser.markers));
    require(!ser.key_only || (ser.x.empty() && ser.y_low.empty()),
            fmt::format("{}: a key-only series holds no data", who));
  }
  const auto check_range = [&](const char* axis, double lo, double hi, bool log) {
    for (const double v : {lo, hi})
      require(std::isnan(v) || (std::isfinite(v) && (!log || v > 0)),
              fmt::format("figure '{}': {} range end {} is not {}", f.name, axis, v,
                          log ? "a positive number (log axis)" : "a finite number"));
    require(!(lo >= hi), fmt::format("figure '{}': {} range [{}, {}] is empty", f.name, axis, lo, hi));
  };
  check_range("x", f.xmin, f.xmax, f.logx);
  check_range("y", f.ymin, f.ymax, f.logy);
  require(!(f.logy && f.log10_y), fmt::format("figure '{}': log10_y data on a log axis", f.name));
  if (f.heatmap) {
    const Heatmap& h = *f.heatmap;
    const auto who = fmt::format("figure '{}', heatmap", f.name);
    require(h.z.size() == h.x.size() * h.y.size(),
            fmt::format("{}: z has {} values, x.size() * y.size() is {} * {} = {}", who, h.z.size(), h.x.size(),
                        h.y.size(), h.x.size() * h.y.size()));
    const auto check_centres = [&](const char* axis, const std::vector<double>& c) {
      for (size_t i = 0; i < c.size(); ++i) {
        require(std::isfinite(c[i]), fmt::format("{}: {}[{}] = {} is not finite", who, axis, i, c[i]));
        if (i > 0 && !(c[i - 1] < c[i]))  // the message reads c[i - 1]: formatted only when i > 0
          throw InvalidInput(fmt::format("{}: {} is not strictly increasing ({}[{}] = {}, {}[{}] = {})", who, axis,
                                         axis, i - 1, c[i - 1], axis, i, c[i]));
      }
    };
    check_centres("x", h.x);
    check_centres("y", h.y);
    require(!f.logx && !f.logy, fmt::format("{}: a heatmap is drawn on linear axes only", who));
    check_range("colour", h.zmin, h.zmax, false);
  }
  require(f.key_rows >= 0, fmt::format("figure '{}': key_rows must be >= 0, got {}", f.name, f.key_rows));
  for (size_t i = 0; i < f.marks.size(); ++i) {
    const Mark& m = f.marks[i];
    const auto who = fmt::format("figure '{}', mark {} '{}'", f.name, i, one_line(m.text));
    require(std::isfinite(m.x) && std::isfinite(m.y) && (!f.logx || m.x > 0) && (!f.logy || m.y > 0),
            fmt::format("{}: ({}, {}) is not a point of the axes", who, m.x, m.y));
    require(m.colour >= -1 && m.colour <= Series::grey,
            fmt::format("{}: colour {} is not a palette index (0..{}) or -1", who, m.colour, Series::grey));
    require(m.point >= 1 && m.point <= 15, fmt::format("{}: point type {} is not 1..15", who, m.point));
    require(std::isfinite(m.dx) && std::isfinite(m.dy), fmt::format("{}: the text offset is not finite", who));
  }
  for (const Figure& p : f.panels) {
    require(p.panels.empty(), fmt::format("figure '{}': a panel holds no panels of its own", f.name));
    Figure named = p;
    named.name = f.name;  // a panel is drawn into its figure's files
    check_figure(named);
  }
}

// The data file is built block by block; a block is one plot element's points,
// its segments separated by single blank lines (gnuplot breaks the line there).
// A block with no drawable point gets no index (two blank lines in a row with
// nothing between would not count as a block and would shift every later
// index); its comment lines are still written.
class DataFile {
 public:
  // The axes of the panel whose blocks follow (which values a log axis cannot draw).
  void axes(bool logx, bool logy) {
    logx_ = logx;
    logy_ = logy;
  }

  bool drawable_x(double x) const { return std::isfinite(x) && (!logx_ || x > 0); }
  bool drawable_y(double y) const { return std::isfinite(y) && (!logy_ || y > 0); }

  void begin(const std::string& comment) {
    comment_ = one_line(comment);
    block_.clear();
    in_segment_ = false;
    points_ = 0;
  }
  void point(std::initializer_list<double> cols) {
    std::string line;
    for (double v : cols) line += (line.empty() ? "" : " ") + format_number(v);
    block_ += line + "\n";
    in_segment_ = true;
    ++points_;
  }
  // A value left out: recorded as a comment, and the current segment ends.
  void gap(std::initializer_list<double> cols) {
    std::string line = "# not drawn:";
    for (double v : cols) line += " " + (std::isnan(v) ? std::string("nan") : format_number(v));
    if (in_segment_) block_ += "\n";
    block_ += line + "\n";
    in_segment_ = false;
  }
  // Closes the block; returns its gnuplot index, or -1 if it has no point.
  int end() {
    if (points_ == 0) {
      text_ += fmt::format("# no block, nothing drawable: {}\n", comment_) + block_;
      return -1;
    }
    if (blocks_ > 0) text_ += "\n\n";
    text_ += fmt::format("# block {}: {}\n", blocks_, comment_) + block_;
    return blocks_++;
  }
  // Ends the current segment (a blank line) without recording a value.
  void break_segment() {
    if (in_segment_) block_ += "\n";
    in_segment_ = false;
  }
  void header(const std::string& h) { text_ = h + text_; }
  const std::string& text() const { return text_; }

 private:
  bool logx_ = false, logy_ = false;
  std::string text_, comment_, block_;
  int blocks_ = 0;
  bool in_segment_ = false;
  int points_ = 0;
};

struct PlotElement {
  std::string spec;  // "index k with ... title ..."
  bool band = false;
};

std::string band_style(const std::string& colour) {
  return fmt::format("filledcurves fillcolor rgb '{}' fillstyle transparent solid 0.2 noborder", colour);
}

std::string title_of(const std::string& label) {
  return label.empty() ? "notitle" : "title " + gp_quote(label);
}

// Minimum and maximum of the drawable values of one axis over every series.
struct Span {
  double lo = INFINITY, hi = -INFINITY;
  void add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
};

// Axis settings for a log axis over [lo, hi]: powers of ten written as 10^k
// once it covers two decades. Minor tics mark 2..9 within a decade; when the
// major tics are several decades apart they would bunch beside each label, so
// they are left out. Below two decades gnuplot would label only the one or
// two powers of ten inside; the tics are then 1, 2 and 5 times each power
// (more digits the narrower the range), written plainly.
std::string log_axis(const char* axis, double lo, double hi) {
  std::string s = fmt::format("set logscale {} 10\n", axis);
  if (!(lo > 0) || !(lo <= hi) || !std::isfinite(hi)) return s;
  const double decades = std::log10(hi) - std::log10(lo);
  if (decades >= 2.0) {
    s += fmt::format("set format {} '10^{{%T}}'\n", axis);
    if (decades > 8.0) s += fmt::format("unset m{}tics\n", axis);
    return s;
  }
  const std::vector<int> digits = decades < 0.5   ? std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9}
                                  : decades < 1.2 ? std::vector<int>{1, 2, 3, 5}
                                                  : std::vector<int>{1, 2, 5};
  std::string list;
  const int first = static_cast<int>(std::floor(std::log10(lo))) - 1;
  const int last = static_cast<int>(std::ceil(std::log10(hi))) + 1;
  for (int k = first; k <= last; ++k)
    for (const int d : digits) list += fmt::format("{}{:g}", list.empty() ? "" : ", ", d * std::pow(10.0, k));
  s += fmt::format("set {}tics ({})\nset format {} '%g'\n", axis, list, axis);
  return s;
}

// Tics for an axis whose values are log10 of the quantity (Figure::log10_y)
// over [lo, hi]: at whole decades, written 10^k, every 1, 2, 5, 10, 20, 50 ...
// decades so that at most eight are labelled; below two decades, at 1, 2 and 5
// times each power, written plainly, as log_axis does.
std::string log10_axis(const char* axis, double lo, double hi) {
  std::string s = fmt::format("unset m{}tics\n", axis);
  if (!(lo <= hi) || !std::isfinite(lo) || !std::isfinite(hi))
    return s + fmt::format("set format {} '10^{{%g}}'\n", axis);
  const double decades = hi - lo;
  if (decades >= 2.0) {
    double step = 1;
    for (int k = 1; decades / step > 8.0; ++k) step = std::array<double, 3>{1, 2, 5}[k % 3] * std::pow(10.0, k / 3);
    return s + fmt::format("set {}tics {:g}\nset format {} '10^{{%g}}'\n", axis, step, axis);
  }
  const std::vector<int> digits = decades < 0.5   ? std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9}
                                  : decades < 1.2 ? std::vector<int>{1, 2, 3, 5}
                                                  : std::vector<int>{1, 2, 5};
  std::string list;
  for (int k = static_cast<int>(std::floor(lo)) - 1; k <= static_cast<int>(std::ceil(hi)) + 1; ++k)
    for (const int d : digits)
      list += fmt::format("{}'{:g}' {:.10g}", list.empty() ? "" : ", ", d * std::pow(10.0, k), k + std::log10(d));
  return s + fmt::format("set {}tics ({})\n", axis, list);
}

// "[lo:hi]" with '*' for an end taken from the data.
std::string range_of(double lo, double hi) {
  const auto end = [](double v) { return std::isnan(v) ? std::string("*") : format_number(v); };
  return fmt::format("[{}:{}]", end(lo), end(hi));
}

std::string colour_of(int index) { return index == Series::grey ? "#808080" : kColours[static_cast<size_t>(index)]; }

// Edges of the cells centred at `c` (strictly increasing): halfway between
// neighbours, the outer edges as far out as the inner ones; a single centre
// gets a cell 1 wide. Returns c.size() + 1 edges.
std::vector<double> cell_edges(const std::vector<double>& c) {
  const size_t n = c.size();
  if (n == 0) return {};
  if (n == 1) return {c[0] - 0.5, c[0] + 0.5};
  std::vector<double> e(n + 1);
  for (size_t i = 1; i < n; ++i) e[i] = c[i - 1] + 0.5 * (c[i] - c[i - 1]);
  e[0] = c[0] - (e[1] - c[0]);
  e[n] = c[n - 1] + (c[n - 1] - e[n - 1]);
  return e;
}

// The colour scale of a heatmap: its range, tic values and labels. gnuplot
// leaves room for colour-box tic labels of three characters only, so the
// tics are chosen here and the right margin made wide enough for them.
struct ColourScale {
  double lo = 0, hi = 1;
  std::vector<std::pair<double, std::string>> tics;
  size_t widest = 0;  // characters of the longest tic label
};

// The range is the caller's where fixed, otherwise that of the finite values
// (0..1 when there are none). An empty range (one value everywhere, or a
// fixed end beyond all values) is widened by 1, so the values take the middle
// of the scale or the fixed end stays where the caller put it. Tics are 1, 2
// or 5 times a power of ten apart, 3 to 9 of them.
ColourScale colour_scale(const Heatmap& h) {
  Span finite;
  for (const double z : h.z)
    if (std::isfinite(z)) finite.add(z);
  const bool any = finite.lo <= finite.hi;
  ColourScale c;
  c.lo = !std::isnan(h.zmin) ? h.zmin : any ? finite.lo : 0.0;
  c.hi = !std::isnan(h.zmax) ? h.zmax : any ? finite.hi : 1.0;
  if (!(c.lo < c.hi)) {
    if (!std::isnan(h.zmin) && std::isnan(h.zmax)) c.hi = c.lo + 1;
    else if (std::isnan(h.zmin) && !std::isnan(h.zmax)) c.lo = c.hi - 1;
    else c.lo -= 1, c.hi += 1;
  }
  c.lo += 0.0, c.hi += 0.0;  // -0 written as 0
  const double raw = (c.hi - c.lo) / 8;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  const double m = raw / power;
  const double step = (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
  const double first = std::ceil(c.lo / step - 1e-9), last = std::floor(c.hi / step + 1e-9);
  // Counted, not stepped in k: far from 0 (1e17 and a range of 10), k + 1 may equal k.
  for (int i = 0; i <= 10 && first + i <= last; ++i) {
    const double k = first + i;
    const double v = std::abs(k) < 0.5 ? 0.0 : k * step;
    std::string label = fmt::format("{:g}", v);
    c.widest = std::max(c.widest, label.size());
    c.tics.emplace_back(v, std::move(label));
  }
  return c;
}

// Viridis (perceptually uniform, readable in greyscale and with the common
// colour-vision deficiencies), sampled at nine points.
constexpr const char* kPalette =
    "set palette defined (0 '#440154', 1 '#472d7b', 2 '#3b528b', 3 '#2c728e', 4 '#21918c', "
    "5 '#28ae80', 6 '#5ec962', 7 '#addc30', 8 '#fde725')\n";

struct Script {
  std::string data;
  std::string gnuplot;
};

// The settings and the plot command of one panel (the whole figure, or one of
// Figure::panels); its data blocks are appended to `data`.
struct PanelScript {
  std::string settings, plot;
  std::string both() const { return settings + plot; }
};

PanelScript panel_script(const Figure& f, DataFile& data) {
  data.axes(f.logx, f.logy);
  std::vector<PlotElement> elements;
  Span xs, ys;
  bool any_drawn = false;
  bool has_markers = false;
  bool integer_x = true;  // every drawn x a whole number (steps, indices, distances)

  // Sparse markers of different series start at different points, so that
  // curves lying on each other still show every series' markers.
  size_t sparse = 0, sparse_seen = 0;
  for (const Series& ser : f.series)
    if (!ser.key_only && (ser.style == Series::Style::linespoints || (ser.style == Series::Style::points && ser.markers > 0)))
      ++sparse;

  // The heatmap's cells, one line each: x y z x_low x_high y_low y_high, row
  // by row (one row per y, a blank line between rows; the data header says
  // more).
  std::string heatmap_spec;
  if (f.heatmap) {
    const Heatmap& h = *f.heatmap;
    const std::vector<double> xe = cell_edges(h.x), ye = cell_edges(h.y);
    data.begin(fmt::format("heatmap '{}': x y z x_low x_high y_low y_high", h.colour_label));
    for (size_t i = 0; i < h.y.size(); ++i) {
      data.break_segment();
      for (size_t j = 0; j < h.x.size(); ++j) {
        const double z = h.z[i * h.x.size() + j];
        if (std::isfinite(z)) {
          data.point({h.x[j], h.y[i], z, xe[j], xe[j + 1], ye[i], ye[i + 1]});
        } else {
          data.gap({h.x[j], h.y[i], z});
        }
      }
    }
    if (const int k = data.end(); k >= 0) {
      // Each cell is a filled rectangle with an outline of its own colour: the
      // outline covers the hairline seams antialiasing would leave between
      // neighbouring cells.
      heatmap_spec = fmt::format(
          "datafile index {} using 1:2:4:5:6:7:3 with boxxyerror linecolor palette z linewidth 1 "
          "fillstyle solid 1.0 border notitle",
          k);
      any_drawn = true;
    }
    // The cells' extent sets the axes (with the series'), finite values or not.
    for (const double x : h.x) integer_x = integer_x && x == std::round(x);
    if (!xe.empty() && !ye.empty()) {
      xs.add(xe.front()), xs.add(xe.back());
      ys.add(ye.front()), ys.add(ye.back());
    }
  }

  for (size_t s = 0; s < f.series.size(); ++s) {
    const Series& ser = f.series[s];
    const std::string colour = colour_of(ser.colour >= 0 ? ser.colour : static_cast<int>(s % kColours.size()));
    const size_t n = ser.x.size();
    const int dash = ser.dash > 0                            ? ser.dash
                     : ser.style == Series::Style::dashed ? kDashes[1 + s % (kDashes.size() - 1)]
                                                            : kDashes[s % kDashes.size()];
    const int point = ser.point > 0 ? ser.point : kPoints[s % kPoints.size()];
    const std::string line_with = fmt::format("lines linecolor rgb '{}' linewidth 2 dashtype {}", colour, dash);
    const std::string points_with =
        fmt::format("points linecolor rgb '{}' pointtype {} pointsize 1.1*point_scale", colour, point);
    std::string key_with;  // how the legend shows the series
    switch (ser.style) {
      case Series::Style::lines:
      case Series::Style::dashed: key_with = line_with; break;
      case Series::Style::points: key_with = points_with; break;
      case Series::Style::linespoints:
        key_with = fmt::format("linespoints linecolor rgb '{}' linewidth 2 dashtype {} pointtype {} "
                               "pointsize 1.1*point_scale",
                               colour, dash, point);
        break;
    }
    if (ser.key_only) {
      elements.push_back({fmt::format("NaN with {} {}", key_with, title_of(ser.label)), false});
      continue;
    }

    std::string band_key;
    if (!ser.y_low.empty()) {
      data.begin(fmt::format("band of series {} '{}': x y_low y_high", s, ser.label));
      for (size_t i = 0; i < n; ++i) {
        const double x = ser.x[i], lo = ser.y_low[i], hi = ser.y_high[i];
        if (data.drawable_x(x) && data.drawable_y(lo) && data.drawable_y(hi)) {
          data.point({x, lo, hi});
          xs.add(x);
          ys.add(lo);
          ys.add(hi);
          integer_x = integer_x && x == std::round(x);
        } else {
          data.gap({x, lo, hi});
        }
      }
      if (const int k = data.end(); k >= 0) {
        elements.push_back({fmt::format("datafile index {} using 1:2:3 with {} notitle", k, band_style(colour)),
                            true});
        any_drawn = true;
        // The band's legend entry follows its curve's (the band itself is drawn first).
        if (!ser.band_label.empty())
          band_key = fmt::format("NaN with {} {}", band_style(colour), title_of(ser.band_label));
      }
    }

    data.begin(fmt::format("series {} '{}': x y", s, ser.label));
    // A point with no drawable neighbour on either side is invisible as a line;
    // such points are collected and drawn as dots.
    std::vector<std::pair<double, double>> isolated;
    for (size_t i = 0; i < n; ++i) {
      const double x = ser.x[i], y = ser.y[i];
      if (data.drawable_x(x) && data.drawable_y(y)) {
        data.point({x, y});
        xs.add(x);
        ys.add(y);
        integer_x = integer_x && x == std::round(x);
        const bool prev = i > 0 && data.drawable_x(ser.x[i - 1]) && data.drawable_y(ser.y[i - 1]);
        const bool next = i + 1 < n && data.drawable_x(ser.x[i + 1]) && data.drawable_y(ser.y[i + 1]);
        if (!prev && !next) isolated.emplace_back(x, y);
      } else {
        data.gap({x, y});
      }
    }
    // linespoints: markers on at most 25 points (or `markers`), so they mark the curve without hiding it.
    const bool is_sparse =
        ser.style == Series::Style::linespoints || (ser.style == Series::Style::points && ser.markers > 0);
    const size_t most = ser.markers > 0 ? static_cast<size_t>(ser.markers) : 25;
    // Counted over the points inside a fixed x range, where the markers are seen.
    const size_t visible = static_cast<size_t>(std::count_if(ser.x.begin(), ser.x.end(), [&](double x) {
      return !(x < f.xmin) && !(x > f.xmax);  // NaN ends compare false: no limit
    }));
    const size_t every = is_sparse ? std::max<size_t>(1, (visible + most - 1) / most) : 1;
    const size_t start = is_sparse && sparse > 1 ? (sparse_seen * every / sparse) % every : 0;
    if (is_sparse) ++sparse_seen;
    const int k = data.end();
    if (k < 0) {
      // Keeps the legend entry so the reader sees the series exists.
      const std::string label = ser.label.empty() ? "" : ser.label + " (no finite values)";
      elements.push_back({fmt::format("NaN with {} {}", key_with, title_of(label)), false});
      if (!band_key.empty()) elements.push_back({band_key, false});
      continue;
    }
    any_drawn = true;
    const std::string every_spec = every > 1 || start > 0 ? fmt::format(" every {}::{}", every, start) : "";
    switch (ser.style) {
      case Series::Style::lines:
      case Series::Style::dashed:
        elements.push_back(
            {fmt::format("datafile index {} using 1:2 with {} {}", k, line_with, title_of(ser.label)), false});
        break;
      case Series::Style::points:
        elements.push_back({fmt::format("datafile index {}{} using 1:2 with {} {}", k, every_spec, points_with,
                                        title_of(ser.label)),
                            false});
        break;
      case Series::Style::linespoints:
        // The line through every point, markers on some, one legend entry showing both.
        elements.push_back({fmt::format("datafile index {} using 1:2 with {} notitle", k, line_with), false});
        elements.push_back(
            {fmt::format("datafile index {}{} using 1:2 with {} notitle", k, every_spec, points_with), false});
        if (!ser.label.empty()) elements.push_back({fmt::format("NaN with {} {}", key_with, title_of(ser.label)), false});
        break;
    }
    if (!band_key.empty()) elements.push_back({band_key, false});
    if (ser.style != Series::Style::lines && ser.style != Series::Style::dashed) has_markers = true;
    if (!isolated.empty() && ser.style != Series::Style::points) {
      data.begin(fmt::format("isolated points of series {} '{}': x y", s, ser.label));
      for (const auto& [x, y] : isolated) data.point({x, y});
      const int ki = data.end();
      elements.push_back(
          {fmt::format("datafile index {} using 1:2 with points linecolor rgb '{}' pointtype {} pointsize 0.8*point_scale notitle",
                       ki, colour, point),
           false});
    }
  }

  if (f.unit_circle) {
    data.begin("unit circle |z| = 1: x y");
    constexpr int steps = 360;
    for (int i = 0; i <= steps; ++i) {
      const double a = 2.0 * std::numbers::pi * i / steps;
      data.point({std::cos(a), std::sin(a)});
    }
    const int k = data.end();
    xs.add(-1), xs.add(1), ys.add(-1), ys.add(1);
    elements.push_back({fmt::format("datafile index {} using 1:2 with lines linecolor rgb '#808080' linewidth 1.5 "
                                    "dashtype 2 title '|z| = 1'",
                                    k),
                        false});
    any_drawn = true;
  }
  // Bands first so that every curve is drawn over them.
  std::stable_partition(elements.begin(), elements.end(), [](const PlotElement& e) { return e.band; });
  // The heatmap beneath everything.
  if (!heatmap_spec.empty()) elements.insert(elements.begin(), {heatmap_spec, false});

  std::string g;
  // Caller text is drawn as written; only the tic labels use enhanced text (10^k).
  // Widths in characters that fit the 900x600 canvas at the fonts used.
  g += fmt::format("set title {} noenhanced font ',15'\n", gp_wrapped(f.title, 75));
  g += fmt::format("set xlabel {} noenhanced\n", gp_wrapped(f.xlabel, 90));
  g += fmt::format("set ylabel {} noenhanced\n", gp_wrapped(f.ylabel, 40));
  // A legend filled column by column has a fixed number of columns; when
  // they would not fit the canvas at 13 pt (about 88 characters across,
  // sample and gap counted as 7), it is set at 11 pt with shorter samples.
  std::string key_layout = "horizontal", key_text = "samplen 3 width 1";
  size_t key_rows = 0, key_entries = 0;
  if (f.key_rows > 0) {
    size_t entries = f.unit_circle ? 1 : 0, longest = 0;
    for (const Series& ser : f.series) {
      if (!ser.label.empty()) ++entries, longest = std::max(longest, width_of(ser.label));
      if (!ser.band_label.empty() && !ser.y_low.empty()) ++entries, longest = std::max(longest, width_of(ser.band_label));
    }
    size_t rows = static_cast<size_t>(f.key_rows), columns = (entries + rows - 1) / rows;
    if (columns * (longest + 7) > 88) key_text = "samplen 2.5 width 0 font ',11'";
    // Even at 11 pt (about 108 characters across) too wide: fewer, longer columns.
    if (columns > 1 && columns * (longest + 7) > 108) {
      columns = std::max<size_t>(1, 108 / (longest + 7));
      rows = (entries + columns - 1) / columns;
    }
    key_layout = fmt::format("vertical maxrows {}", rows);
    key_rows = rows;
    key_entries = entries;
  }
  g += fmt::format("set key outside below center {} Left reverse noenhanced spacing 1.3 {} height 1\n", key_layout,
                   key_text);
  // A heatmap gets a frame around its cells and no grid, which would show
  // only through blank cells.
  g += fmt::format("set border {} linecolor rgb '#404040'\n", f.heatmap ? 15 : 3);
  g += "set tics nomirror out scale 0.75 textcolor rgb '#202020'\n";
  if (!f.heatmap) g += "set grid xtics ytics linetype 1 linecolor rgb '#dcdcdc' linewidth 1\n";
  if (f.heatmap) {
    g += kPalette;
    g += "set cbtics out scale 0.75 textcolor rgb '#202020'\n";
    const ColourScale scale = colour_scale(*f.heatmap);
    g += fmt::format("set cbrange [{}:{}]\n", format_number(scale.lo), format_number(scale.hi));
    std::string tics;
    for (const auto& [v, label] : scale.tics)
      tics += fmt::format("{}'{}' {}", tics.empty() ? "" : ", ", label, format_number(v));
    g += fmt::format("set cbtics ({})\n", tics);
    // gnuplot leaves room for colour-box tic labels of three characters and
    // places the box's label by its own estimate of their width, which the
    // svg terminal's larger text overruns; so the box and its label are placed
    // here, in screen coordinates that mean the same in both terminals:
    // plot | gap | box | tics and their labels | gap | label (a line each).
    // The label is placed by its first line; further lines follow rightwards.
    const std::vector<std::string> label_lines =
        f.heatmap->colour_label.empty() ? std::vector<std::string>{} : wrapped_lines(f.heatmap->colour_label, 32);
    const double gap = 12, box = 26, tic_labels = 14 + 9.5 * static_cast<double>(scale.widest), line = 22;
    const double label_width = line * static_cast<double>(label_lines.size());
    const double right = gap + box + tic_labels + gap + label_width + gap;
    const double plot_right = 1.0 - right / kWidth;
    g += fmt::format("set rmargin at screen {:.4f}\n", plot_right);
    g += fmt::format("set colorbox vertical user origin screen {:.4f}, graph 0 size screen {:.4f}, graph 1 border\n",
                     plot_right + gap / kWidth, box / kWidth);
    // gnuplot draws the box only when some cell is drawn; its label likewise.
    if (!label_lines.empty() && !heatmap_spec.empty())
      g += fmt::format("set label {} at screen {:.4f}, graph 0.5 center rotate by 90 noenhanced front\n",
                       gp_wrapped(f.heatmap->colour_label, 32),
                       plot_right + (gap + box + tic_labels + gap + 0.5 * line) / kWidth);
  }
  g += "set mxtics\nset mytics\n";
  // x is usually a grid (steps, distances, lengths): the axis ends at the data,
  // with a little room when markers would otherwise sit on the frame. A
  // heatmap's axes end at the outer cell edges (or the series beyond them).
  if (!f.equal_aspect && !f.heatmap) {
    g += "set autoscale xfix\n";
    if (has_markers) g += "set offsets graph 0.02, graph 0.02, 0, 0\n";
  }
  // A range end the caller fixed replaces the data's for the tics as well.
  const auto pick = [](double fixed, double from_data) { return std::isnan(fixed) ? from_data : fixed; };
  const double x_lo = pick(f.xmin, xs.lo), x_hi = pick(f.xmax, xs.hi);
  if (f.logx) g += log_axis("x", x_lo, x_hi);
  if (f.logy) g += log_axis("y", pick(f.ymin, ys.lo), pick(f.ymax, ys.hi));
  if (f.log10_y) g += log10_axis("y", pick(f.ymin, ys.lo), pick(f.ymax, ys.hi));
  // Whole-number x over a short range (a few steps): a tic at every step, none between.
  if (!f.logx && !f.equal_aspect && integer_x && x_lo <= x_hi && x_hi - x_lo <= 12) g += "set xtics 1\nunset mxtics\n";
  // A heatmap's extent is known even when no cell has a value.
  const bool heatmap_ranges = f.heatmap && xs.lo < xs.hi && ys.lo < ys.hi;
  if (heatmap_ranges) {
    g += fmt::format("set xrange {}\n", range_of(pick(f.xmin, xs.lo), pick(f.xmax, xs.hi)));
    g += fmt::format("set yrange {}\n", range_of(pick(f.ymin, ys.lo), pick(f.ymax, ys.hi)));
  } else {
    if (any_drawn && (!std::isnan(f.xmin) || !std::isnan(f.xmax)))
      g += fmt::format("set xrange {}\n", range_of(f.xmin, f.xmax));
    if (any_drawn && (!std::isnan(f.ymin) || !std::isnan(f.ymax)))
      g += fmt::format("set yrange {}\n", range_of(f.ymin, f.ymax));
  }
  if (f.equal_aspect) {
    g += "set size ratio -1\n";
    g += "set xzeroaxis linetype 1 linecolor rgb '#a0a0a0' linewidth 1\n";
    g += "set yzeroaxis linetype 1 linecolor rgb '#a0a0a0' linewidth 1\n";
  }
  if (!any_drawn) {
    // gnuplot cannot autoscale from no points: give it a range and say why it is empty.
    if (!heatmap_ranges) {
      g += f.logx ? "set xrange [1:10]\n" : "set xrange [0:1]\n";
      g += f.logy ? "set yrange [1:10]\n" : "set yrange [0:1]\n";
    }
    g += "set label 'no finite values to draw' at graph 0.5, 0.5 center textcolor rgb '#808080'\n";
  }
  if (elements.empty()) elements.push_back({"NaN notitle", false});
  // gnuplot balances the rows of a column-filled legend (7 entries in at most
  // 3 rows become 3 columns of 3, 2 and 2), which would split the caller's
  // groups; blank entries after the last one make every column full.
  for (size_t i = key_entries; key_rows > 0 && key_entries > key_rows && i % key_rows != 0; ++i)
    elements.push_back({"NaN with lines linecolor rgb '#ffffff' title ' '", false});

  // Marks: a point and its text on a white box, in front of the curves; the text runs towards the middle.
  if (!f.marks.empty()) g += "set style textbox opaque fillcolor rgb 'white' noborder margins 1, 1\n";
  for (const Mark& m : f.marks) {
    const std::string colour = colour_of(m.colour >= 0 ? m.colour : Series::grey);
    const bool right_half = f.logx ? m.x > std::sqrt(x_lo * x_hi) : m.x > 0.5 * (x_lo + x_hi);
    g += fmt::format(
        "set label {} at first {}, first {} {} point pointtype {} pointsize 1.4 linecolor rgb '{}' offset {}, {} "
        "textcolor rgb '{}' font ',11' noenhanced boxed front\n",
        gp_quote(m.text), format_number(m.x), format_number(m.y), right_half ? "right" : "left", m.point, colour,
        format_number(right_half ? -m.dx : m.dx), format_number(m.dy), colour);
  }
  std::string plot = "plot ";
  for (size_t i = 0; i < elements.size(); ++i) plot += (i ? ", \\\n     " : "") + elements[i].spec;
  return {g, plot + "\n"};
}

Script build_script(const Figure& f) {
  DataFile data;
  const PanelScript first = panel_script(f, data);
  // Further panels below the first, each drawn from the same data file with its own settings.
  std::vector<PanelScript> below;
  for (const Figure& p : f.panels) below.push_back(panel_script(p, data));
  bool heatmap = f.heatmap.has_value();
  for (const Figure& p : f.panels) heatmap = heatmap || p.heatmap.has_value();
  data.header(fmt::format(
      "# rnnscope figure '{}': {}\n"
      "# Data drawn by {}.gp. Blocks are separated by two blank lines (gnuplot 'index'),\n"
      "# segments within a block by one blank line (the line breaks there).\n"
      "# Values that cannot be drawn (NaN, inf, <= 0 on a log axis) are kept as '# not drawn:' lines.\n{}",
      f.name, one_line(f.title), f.name,
      heatmap ? "# Heatmap: one line per cell, x y z x_low x_high y_low y_high (centre, value, cell edges),\n"
                "# in rows of increasing y, x increasing within a row; a blank line ends each row, and\n"
                "# a blank cell (NaN, inf) is kept as '# not drawn: x y z' after a blank line.\n"
              : ""));

  std::string g;
  g += fmt::format(
      "# rnnscope figure '{}'. Run: gnuplot {}.gp (in this folder) to redraw {}.png and {}.svg\n"
      "# from {}.dat.\n",
      f.name, f.name, f.name, f.name, f.name);
  if (!f.caption.empty()) g += fmt::format("# {}\n", one_line(f.caption));
  g += "if (!exists('rnnscope_suffix')) rnnscope_suffix = ''\n";
  g += "set encoding utf8\n";
  g += fmt::format("datafile = {}\n", gp_quote(f.name + ".dat"));
  // The svg terminal draws text smaller and points larger than pngcairo at the
  // same settings; these factors make the two images look alike.
  const int height = kHeight + kPanelHeight * static_cast<int>(f.panels.size());
  const std::string png = fmt::format(
      "point_scale = 1.0\n"
      "set terminal pngcairo size {},{} enhanced font '{}' linewidth 1 rounded background rgb 'white'\n"
      "set output {}.rnnscope_suffix\n",
      kWidth, height, kFont, gp_quote(f.name + ".png"));
  const std::string svg = fmt::format(
      "point_scale = 0.8\n"
      "set terminal svg size {},{} fixed enhanced font '{}' fontscale 1.33 linewidth 1 rounded background rgb "
      "'white'\n"
      "set output {}.rnnscope_suffix\n",
      kWidth, height, kFont, gp_quote(f.name + ".svg"));
  if (f.panels.empty()) {
    g += first.settings + png + first.plot + svg + "replot\n";
  } else {
    // One panel under the other (multiplot), the first 600 pixels high and each further one kPanelHeight; a
    // panel starts from gnuplot's defaults (reset keeps the terminal and the output). Drawn once per terminal.
    std::string panels = "set multiplot\n";
    const auto place = [&](double top, double pixels) {
      return fmt::format("set origin 0, {:.4f}\nset size 1, {:.4f}\n", 1.0 - (top + pixels) / height,
                         pixels / height);
    };
    const std::string fresh = "reset\nset encoding utf8\n";
    panels += fresh + place(0, kHeight) + first.both();
    for (size_t i = 0; i < below.size(); ++i)
      panels += fresh + place(kHeight + kPanelHeight * static_cast<double>(i), kPanelHeight) + below[i].both();
    panels += "unset multiplot\n";
    g += png + panels + svg + panels;
  }
  g += "unset output\n";
  return {data.text(), g};
}

// Looks for an executable `gnuplot` in the folders of PATH.
bool find_on_path(const char* program) {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::string_view rest(path);
  while (true) {
    const auto colon = rest.find(':');
    std::string folder(rest.substr(0, colon));
    if (folder.empty()) folder = ".";
    const std::string candidate = folder + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0 && !std::filesystem::is_directory(candidate)) return true;
    if (colon == std::string_view::npos) return false;
    rest.remove_prefix(colon + 1);
  }
}

// gnuplot reports an error as the offending command, a caret under it and
// `"file" line N: what`; the last of these says enough on one line. Other
// output is reduced to its last non-empty line.
std::string error_lines(const std::string& output) {
  std::vector<std::string> lines, located;
  std::string line;
  std::istringstream in(output);
  while (std::getline(in, line)) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    line = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
    if (line.find("\" line ") != std::string::npos || line.rfind("line ", 0) == 0) located.push_back(line);
    lines.push_back(line);
  }
  const auto& chosen = located.empty() ? lines : located;
  std::string joined;
  for (size_t i = chosen.size() > 3 ? chosen.size() - 3 : 0; i < chosen.size(); ++i)
    joined += (joined.empty() ? "" : "; ") + chosen[i];
  if (located.empty() && !lines.empty()) joined = lines.back();
  if (joined.size() > 600) joined = joined.substr(0, 600) + "...";
  return joined;
}

struct RunResult {
  bool ok = false;
  std::string message;
};

// Runs `gnuplot -d -e "rnnscope_suffix='SUFFIX'" SCRIPT` inside `dir`, without a
// shell, stdin from /dev/null, stdout and stderr collected. -d skips the
// user's ~/.gnuplot so every figure looks the same everywhere. gnuplot is
// killed with rnnscope (PR_SET_PDEATHSIG): a killed run leaves no gnuplot
// behind still writing its temporaries into a folder a resume has taken over.
// That needs fork and exec; the child calls only async-signal-safe functions.
RunResult run_gnuplot(const std::filesystem::path& dir, const std::string& script, const std::string& suffix) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {false, "cannot create a pipe for gnuplot"};
  std::string a0 = "gnuplot", a1 = "-d", a2 = "-e", a3 = "rnnscope_suffix='" + suffix + "'", a4 = script;
  char* argv[] = {a0.data(), a1.data(), a2.data(), a3.data(), a4.data(), nullptr};
  const std::string folder = dir.string();
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(127);
    const int null = ::open("/dev/null", O_RDONLY);
    if (null < 0 || ::chdir(folder.c_str()) != 0 || ::dup2(null, 0) < 0 || ::dup2(fds[1], 1) < 0 ||
        ::dup2(fds[1], 2) < 0)
      ::_exit(127);
    ::execvp("gnuplot", argv);
    ::_exit(127);
  }
  const int fork_error = errno;
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    return {false, fmt::format("cannot start gnuplot: {}", std::strerror(fork_error))};
  }

  std::string output;
  bool timed_out = false;
  const auto deadline = std::chrono::steady_clock::now() + kGnuplotTimeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      timed_out = r == 0;
      break;
    }
    char buf[4096];
    const ssize_t got = ::read(fds[0], buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    if (output.size() < 65536) output.append(buf, static_cast<size_t>(got));
  }
  ::close(fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    return {false, fmt::format("gnuplot did not finish within {} s", kGnuplotTimeout.count())};
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {true, ""};
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && output.empty())
    return {false, "cannot start gnuplot (exec failed in its folder)"};
  output = error_lines(output);
  const std::string how = WIFEXITED(status) ? fmt::format("exit code {}", WEXITSTATUS(status))
                                            : fmt::format("signal {}", WTERMSIG(status));
  return {false, fmt::format("gnuplot failed ({}){}{}", how, output.empty() ? "" : ": ", output)};
}

bool nonempty_file(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec) && std::filesystem::file_size(p, ec) > 0 && !ec;
}

}  // namespace

bool gnuplot_available() { return find_on_path("gnuplot"); }

FigureResult write_figure(const Figure& figure, const std::filesystem::path& dir) {
  check_figure(figure);
  ensure_output_dir(dir);
  FigureResult result;
  result.data = dir / (figure.name + ".dat");
  result.script = dir / (figure.name + ".gp");
  result.png = dir / (figure.name + ".png");
  result.svg = dir / (figure.name + ".svg");

  const Script script = build_script(figure);
  write_file_atomic(result.data, script.data);
  write_file_atomic(result.script, script.gnuplot);

  // Images of an earlier run would no longer match the data just written.
  std::error_code ec;
  std::filesystem::remove(result.png, ec);
  std::filesystem::remove(result.svg, ec);

  if (!gnuplot_available()) {
    result.message = fmt::format("figure '{}' not drawn: gnuplot was not found on PATH (data in {})", figure.name,
                                 result.data.string());
    return result;
  }
  const std::string suffix = fmt::format(".tmp{}", ::getpid());
  const auto png_tmp = dir / (figure.name + ".png" + suffix);
  const auto svg_tmp = dir / (figure.name + ".svg" + suffix);
  RunResult run = run_gnuplot(dir, figure.name + ".gp", suffix);
  if (run.ok && !(nonempty_file(png_tmp) && nonempty_file(svg_tmp))) {
    run = {false, "gnuplot exited cleanly but did not write both images"};
  }
  if (run.ok) {
    std::filesystem::rename(png_tmp, result.png, ec);
    if (!ec) std::filesystem::rename(svg_tmp, result.svg, ec);
    if (ec) run = {false, fmt::format("cannot move the images into place: {}", ec.message())};
  }
  if (!run.ok) {
    for (const auto& p : {png_tmp, svg_tmp, result.png, result.svg}) std::filesystem::remove(p, ec);
    result.message = fmt::format("figure '{}' not drawn: {} (data in {})", figure.name, run.message,
                                 result.data.string());
    return result;
  }
  result.drawn = true;
  return result;
}

}  // namespace rnnscope
