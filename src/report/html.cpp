#include "rnnscope/report/html.hpp"

#include <fmt/format.h>

#include <cctype>
#include <set>

#include "rnnscope/io/files.hpp"

namespace rnnscope {
namespace {

// Typography for reading on screen and printing as an appendix: a serif text
// face at a comfortable measure, figures at their drawn width (900 px) or the
// page width if smaller, quiet rules, no colour beyond links.
constexpr const char* kStyle = R"css(
:root { --ink: #1f2328; --muted: #5b6169; --rule: #d8dadd; --link: #0b5394; --paper: #ffffff; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--paper); color: var(--ink);
  font: 17px/1.6 Charter, "Bitstream Charter", "Sitka Text", Cambria, Georgia, "DejaVu Serif", serif; }
main { max-width: 960px; margin: 0 auto; padding: 2.5rem 1.5rem 3rem; }
h1, h2, h3 { font-family: "Source Sans Pro", "Segoe UI", "Helvetica Neue", Arial, "DejaVu Sans", sans-serif;
  font-weight: 600; line-height: 1.25; }
h1 { font-size: 2rem; margin: 0 0 .3rem; }
.subtitle { font-size: 1.15rem; color: var(--muted); margin: 0 0 1.5rem; }
table.facts { border-collapse: collapse; margin: 0 0 2rem; font-size: .92rem; }
table.facts th { text-align: left; font-weight: 600; color: var(--muted); padding: .15rem 1.5rem .15rem 0;
  vertical-align: top; white-space: nowrap; }
table.facts td { padding: .15rem 0; overflow-wrap: anywhere; }
nav.toc { border-top: 1px solid var(--rule); border-bottom: 1px solid var(--rule); padding: .9rem 0 1rem;
  margin: 0 0 2.5rem; }
nav.toc h2 { font-size: .8rem; letter-spacing: .08em; text-transform: uppercase; color: var(--muted);
  margin: 0 0 .5rem; }
nav.toc ol { margin: 0; padding-left: 1.6rem; }
nav.toc li { margin: .1rem 0; }
section { margin: 0 0 3rem; }
section > h2 { font-size: 1.45rem; margin: 0 0 .6rem; padding-bottom: .25rem; border-bottom: 1px solid var(--rule); }
.num { color: var(--muted); margin-right: .45rem; font-variant-numeric: tabular-nums; }
.reading { margin: 0 0 1rem; max-width: 44em; }
figure { margin: 1.5rem 0 1.75rem; }
figure img { display: block; width: 100%; max-width: 900px; height: auto; }
figure .missing { max-width: 900px; padding: 2.5rem 1rem; border: 1px dashed #b8bcc2; color: var(--muted);
  text-align: center; font-size: .95rem; }
figcaption { max-width: 900px; margin-top: .4rem; font-size: .88rem; color: var(--muted); }
figcaption b { color: var(--ink); font-weight: 600; }
.files { font-size: .92rem; margin: .5rem 0 0; }
.extra { margin: 1rem 0; overflow-x: auto; }
.extra table { border-collapse: collapse; font-size: .9rem; font-variant-numeric: tabular-nums; }
.extra th, .extra td { padding: .3rem .8rem; border-bottom: 1px solid var(--rule); text-align: left; }
.extra thead th { border-bottom: 1.5px solid var(--ink); }
a { color: var(--link); text-decoration-thickness: 1px; text-underline-offset: 2px; }
code, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .86em; }
footer { max-width: 960px; margin: 0 auto; padding: 1rem 1.5rem 2.5rem; color: var(--muted); font-size: .85rem;
  border-top: 1px solid var(--rule); }
@media print {
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  nav.toc { break-after: page; }
  section > h2 { break-after: avoid; }
  figure { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  footer { border: 0; }
}
)css";

// A file name as a relative URL: bytes outside the unreserved set (and '/')
// are percent-encoded, so spaces, '#', '?' or '&' in a name cannot change
// what the link points at.
std::string url_path(const std::string& name) {
  std::string out;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') out += c;
    else out += fmt::format("%{:02X}", u);
  }
  return out;
}

// Anchors: letters, digits, '-' and '_' only; never empty; never repeated.
std::string make_anchor(const std::string& wanted, size_t index, std::set<std::string>& taken) {
  std::string base;
  for (char c : wanted) {
    const auto u = static_cast<unsigned char>(c);
    base += std::isalnum(u) || c == '-' || c == '_' ? c : '-';
  }
  if (base.empty()) base = fmt::format("section-{}", index + 1);
  std::string id = base;
  for (int k = 2; taken.count(id); ++k) id = fmt::format("{}-{}", base, k);
  taken.insert(id);
  return id;
}

std::string link(const std::string& file, const std::string& text) {
  return fmt::format("<a href=\"{}\">{}</a>", html_escape(url_path(file)), html_escape(text));
}

bool file_exists(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::exists(p, ec);
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string render_report_html(const Report& report, const std::filesystem::path& dir) {
  std::set<std::string> taken;
  std::vector<std::string> anchors;
  for (size_t i = 0; i < report.sections.size(); ++i) anchors.push_back(make_anchor(report.sections[i].id, i, taken));

  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += "<meta name=\"generator\" content=\"rnnscope\">\n";
  h += fmt::format("<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<main>\n", html_escape(report.title), kStyle);

  h += fmt::format("<header>\n<h1>{}</h1>\n", html_escape(report.title));
  if (!report.subtitle.empty()) h += fmt::format("<p class=\"subtitle\">{}</p>\n", html_escape(report.subtitle));
  if (!report.facts.empty()) {
    h += "<table class=\"facts\">\n";
    for (const auto& [key, value] : report.facts)
      h += fmt::format("<tr><th scope=\"row\">{}</th><td>{}</td></tr>\n", html_escape(key), html_escape(value));
    h += "</table>\n";
  }
  h += "</header>\n";

  if (!report.sections.empty()) {
    h += "<nav class=\"toc\" aria-label=\"Contents\">\n<h2>Contents</h2>\n<ol>\n";
    for (size_t i = 0; i < report.sections.size(); ++i)
      h += fmt::format("<li><a href=\"#{}\">{}</a></li>\n", anchors[i], html_escape(report.sections[i].title));
    h += "</ol>\n</nav>\n";
  }

  int figure_number = 0;
  for (size_t i = 0; i < report.sections.size(); ++i) {
    const ReportSection& s = report.sections[i];
    h += fmt::format("<section id=\"{}\">\n<h2><span class=\"num\">{}</span>{}</h2>\n", anchors[i], i + 1,
                     html_escape(s.title));
    if (!s.reading.empty()) h += fmt::format("<p class=\"reading\">{}</p>\n", html_escape(s.reading));
    for (const std::string& stem : s.figures) {
      ++figure_number;
      const auto found = s.captions.find(stem);
      const std::string caption = found == s.captions.end() ? "" : found->second;
      const std::string png = stem + ".png", svg = stem + ".svg", dat = stem + ".dat", gp = stem + ".gp";
      const bool drawn = file_exists(dir / png), has_data = file_exists(dir / dat);
      h += "<figure>\n";
      if (drawn) {
        h += fmt::format("<a href=\"{}\"><img src=\"{}\" width=\"900\" height=\"600\" alt=\"{}\"></a>\n",
                         html_escape(url_path(svg)), html_escape(url_path(png)),
                         html_escape(caption.empty() ? fmt::format("Figure {}: {} ({})", figure_number, stem, s.title)
                                                     : fmt::format("Figure {}: {}", figure_number, caption)));
      } else {
        h += fmt::format("<div class=\"missing\">Figure <span class=\"mono\">{}</span> was not drawn "
                         "(gnuplot was not available or failed){}.</div>\n",
                         html_escape(stem), has_data ? "; its data is linked below" : "");
      }
      std::vector<std::string> links;
      if (drawn) links.push_back(link(svg, "SVG"));
      if (has_data) links.push_back(link(dat, "data"));
      if (file_exists(dir / gp)) links.push_back(link(gp, "gnuplot script"));
      std::string joined;
      for (const auto& l : links) joined += (joined.empty() ? "" : " \u00b7 ") + l;
      // The caption, then the file stem and the links to the figure's files.
      h += fmt::format("<figcaption><b>Figure {}.</b> {}<span class=\"mono\">{}</span>{}{}</figcaption>\n",
                       figure_number, caption.empty() ? "" : html_escape(caption) + " ", html_escape(stem),
                       joined.empty() ? "" : " \u2014 ", joined);
      h += "</figure>\n";
    }
    if (!s.tables.empty()) {
      h += "<p class=\"files\">Tables: ";
      for (size_t t = 0; t < s.tables.size(); ++t) h += (t ? " \u00b7 " : "") + link(s.tables[t], s.tables[t]);
      h += "</p>\n";
    }
    if (!s.extra_html.empty()) h += "<div class=\"extra\">\n" + s.extra_html + "\n</div>\n";
    h += "</section>\n";
  }
  h += "</main>\n<footer>Written by rnnscope. Figures link to their SVG; every figure's data and gnuplot "
       "script sit beside it in this folder.</footer>\n</body>\n</html>\n";
  return h;
}

void write_report_html(const Report& report, const std::filesystem::path& dir) {
  ensure_output_dir(dir);
  write_file_atomic(dir / "index.html", render_report_html(report, dir));
}

}  // namespace rnnscope
