// Figures drawn by gnuplot. A Figure is a plain description (series of x/y
// points, optionally a heatmap beneath them, labels, axis scales);
// write_figure turns it into three files in a folder:
//   NAME.dat  the plotted data, one gnuplot data block per series (and one per
//             shaded band, one for the heatmap's cells), with comment lines
//             naming each block;
//   NAME.gp   the gnuplot script that reads NAME.dat; `gnuplot NAME.gp` run in
//             the folder redraws the figure;
//   NAME.png  900x600 raster (pngcairo; 380 pixels taller per further panel) and NAME.svg vector image.
// The data and the script are always written; the images only when gnuplot is
// on PATH and succeeds. gnuplot runs as a child process (no shell), reads the
// script file, writes each image to a temporary name that is renamed into place
// only after it exited cleanly. All caller text reaches gnuplot inside
// single-quoted strings with quotes doubled, where gnuplot performs no
// substitution, and is drawn literally (no enhanced-text markup: write
// subscripts and symbols as Unicode, e.g. "‖Wⁿ‖₂", "λᵢ").
//
// Missing values: a point whose x or y is NaN or infinite, or is <= 0 on a log
// axis, is not drawn; the line breaks there (a gap, not a bridge) and NAME.dat
// keeps a comment line recording the point left out. A heatmap cell whose
// value is NaN or infinite is left blank and recorded the same way.
// docs/figures.md has the details.
#pragma once

#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace rnnscope {

/// One curve of a figure: points (x[i], y[i]) and optionally a shaded band
/// between y_low[i] and y_high[i] (e.g. mean +- spread) in the same colour.
/// Colour, dash type and marker shape follow the series' position unless set.
struct Series {
  enum class Style { lines, points, linespoints, dashed };
  static constexpr int grey = 7;  ///< `colour` value for neutral grey (references, style keys)
  std::string label;  ///< legend entry; empty leaves the series out of the legend
  std::vector<double> x, y;
  Style style = Style::lines;
  std::vector<double> y_low, y_high;  ///< both empty, or both the size of x
  std::string band_label;             ///< legend entry of the band; empty: none
  int colour = -1;  ///< palette index 0..6 or `grey`; -1: from the series' position
  int dash = 0;     ///< gnuplot dash type 1..5 (1 solid, 2 dashed, 3 dotted, 4 dash-dot, 5 dash-dot-dot); 0: from style and position
  int point = 0;    ///< gnuplot point type 1..15 (odd: filled, even: open, from 4); 0: from the position
  int markers = 0;  ///< points, linespoints: at most this many markers (0: 25 for linespoints, every point for points)
  bool key_only = false;  ///< no data (x, y empty): only a legend entry that explains a line or marker style
};

/// Values on a grid drawn as coloured cells. Cell (i, j) is centred at
/// (x[j], y[i]) and reaches halfway to the neighbouring centres (the outer
/// cells as far out as inside; a single centre gets a cell 1 wide), so
/// unevenly spaced centres (e.g. the training steps at which something was
/// evaluated) give cells of different widths that still tile the plane.
struct Heatmap {
  std::vector<double> x, y;  ///< cell centres, finite and strictly increasing
  /// Row-major: z[i * x.size() + j] is the value at (x[j], y[i]); size
  /// x.size() * y.size(). A NaN or infinite value leaves its cell blank.
  std::vector<double> z;
  std::string colour_label;  ///< label of the colour box beside the plot
  /// Colour range; NaN (the default) takes that end from the finite values.
  /// Values outside the range get the colour of its nearer end.
  double zmin = std::numeric_limits<double>::quiet_NaN(), zmax = std::numeric_limits<double>::quiet_NaN();
};

/// A point marked on a plot with a text beside it (where a curve clipped at the
/// plot's edge leaves it, say), drawn in front of the curves.
struct Mark {
  double x = 0, y = 0;  ///< in the axes' values (log10 of the quantity with Figure::log10_y)
  std::string text;     ///< drawn literally, to the right of the point (to its left in the plot's right half)
  int colour = -1;      ///< palette index 0..6 or Series::grey; -1: grey
  int point = 7;        ///< gnuplot point type 1..15
  double dx = 0.8, dy = -0.9;  ///< the text's offset from the point, in character widths and heights
};

/// A 2-D plot. The heatmap, if any, is drawn first; series are drawn over it
/// in order, each band beneath all curves.
struct Figure {
  static constexpr double autoscale = std::numeric_limits<double>::quiet_NaN();
  std::string name;  ///< file stem: letters, digits, '.', '_', '-'
  std::string title, xlabel, ylabel;
  std::string caption;  ///< one sentence for the report; written into NAME.gp as a comment
  bool logx = false, logy = false;
  /// The y values (bands, ymin and ymax too) are log10 of the quantity drawn: the
  /// axis is linear in them and its tics read as powers of ten, as on a log axis,
  /// so that values beyond a double's range (a ratio of 1e-437) are drawn. Not with logy.
  bool log10_y = false;
  std::vector<Series> series;
  bool equal_aspect = false;  ///< one unit in x as long as one unit in y (complex plane)
  bool unit_circle = false;   ///< draw |z| = 1 (a grey dashed circle) with the data
  /// Axis ranges; NaN (the default) takes that end from the data. Points outside
  /// are clipped by gnuplot (a line leaving the range is drawn up to the frame).
  double xmin = autoscale, xmax = autoscale, ymin = autoscale, ymax = autoscale;
  /// 0: the legend is filled row by row. k > 0: column by column, k entries
  /// per column, so that a group of k related entries forms one column.
  int key_rows = 0;
  /// Coloured cells beneath the series (linear axes only). The axes then end
  /// at the outer cell edges unless a range end is fixed.
  std::optional<Heatmap> heatmap;
  std::vector<Mark> marks;
  /// Further panels drawn below this one in the same image (gnuplot multiplot), each with its own
  /// title, axes, series, marks and legend; 380 pixels high each, the first panel keeping its 600.
  /// A panel's name and caption are not used, and it holds no panels itself.
  std::vector<Figure> panels;
};

/// What write_figure produced. The data file and script are always written.
struct FigureResult {
  bool drawn = false;           ///< NAME.png and NAME.svg exist and are complete
  std::string message;          ///< why not drawn (gnuplot missing, its error output)
  std::filesystem::path png, svg, data, script;
};

/// True if an executable `gnuplot` is found on PATH.
bool gnuplot_available();

/// Writes dir/NAME.{dat,gp,png,svg} as described above. Throws InvalidInput
/// for a bad figure (invalid name, x/y or band sizes that differ, a heatmap
/// whose z is not x.size() * y.size() long, whose centres are not finite and
/// strictly increasing or that is drawn on a log axis) or a folder
/// that cannot be created or written; a missing or failing gnuplot does not
/// throw but returns drawn = false with the reason.
FigureResult write_figure(const Figure& figure, const std::filesystem::path& dir);

}  // namespace rnnscope
