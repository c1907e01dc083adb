// The HTML report: one folder with an index.html that shows every figure and
// links every table of an analysis. The page is self-contained (inline CSS, no
// script, nothing fetched from elsewhere), so the folder can be copied, mailed
// or put beside a paper as it is. Figures and tables are referenced by file
// name relative to the folder: write the figures (write_figure) and tables
// first, then the report.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace rnnscope {

/// One part of the report: a heading, a short reading, figures and tables.
struct ReportSection {
  std::string id;       ///< anchor for the table of contents (made unique and URL-safe if needed)
  std::string title;
  std::string reading;  ///< what the section shows, in a sentence or two
  std::vector<std::string> figures;  ///< stems: NAME.png is shown, NAME.svg and NAME.dat linked
  std::vector<std::string> tables;   ///< file names (CSV, JSON) in the folder, linked
  std::string extra_html;            ///< inserted as is: must already be escaped
  /// Figure stem -> its caption, one sentence saying what the figure shows; a
  /// figure without one is captioned by its stem alone.
  std::map<std::string, std::string> captions = {};
};

struct Report {
  std::string title, subtitle;
  std::vector<std::pair<std::string, std::string>> facts;  ///< key/value lines at the top
  std::vector<ReportSection> sections;
};

/// Escapes text for HTML element content and attribute values (& < > " ').
std::string html_escape(const std::string& text);

/// Renders the report as one HTML page. `dir` is consulted for which figure
/// images exist: a figure without NAME.png is shown as "not drawn" with a link
/// to its data.
std::string render_report_html(const Report& report, const std::filesystem::path& dir);

/// Writes dir/index.html atomically (creating dir). Throws InvalidInput if dir
/// cannot be written.
void write_report_html(const Report& report, const std::filesystem::path& dir);

}  // namespace rnnscope
