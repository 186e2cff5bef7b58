#include "sim/cli/host/report_markdown.hpp"

#include "sim/cli/host/report_tables.hpp"

namespace occult::report {
namespace {

std::string md_cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += ' ';
    else
      out += c;
  }
  return out;
}

std::string md_table(const Table& t) {
  std::string out = "|";
  for (const auto& h : t.header) out += " " + md_cell(h) + " |";
  out += "\n|";
  for (bool text : t.text_column) out += text ? " :--- |" : " ---: |";
  out += "\n";
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    out += "|";
    for (const auto& cell : t.rows[r]) {
      std::string c = md_cell(cell);
      out += " " + (t.row_class[r] == "win" ? "**" + c + "**" : c) + " |";
    }
    out += "\n";
  }
  return out + "\n";
}

}  // namespace

std::string markdown_report(const Results& res, const Analysis& a, const PageInfo& info) {
  std::string out = "# " + info.title + "\n\n";
  for (const auto& [name, value] : context_facts(res, a))
    out += "- **" + name + "**: " + md_cell(value) + "\n";
  out +=
      "\nSpeedup = layer time of the fastest `standard` row of the same configuration / layer time of the "
      "row. The winner is the fastest row; bold in the tables below.\n\n## Where each strategy wins\n\n";
  for (const std::string& line : headlines(a)) out += "- " + line + "\n";
  out += "\n" + md_table(summary_table(res, a));
  for (const TitledTable& t : wins_tables(a)) out += "### " + t.title + "\n\n" + md_table(t.table);
  out += "## All results\n\n";
  for (const Panel& p : a.panels) {
    if (!p.title.empty()) out += "### " + p.title + "\n\n";
    out += md_table(results_table(res, a, p));
  }
  out += "Written by `" + info.command + "`.\n";
  return out;
}

}  // namespace occult::report
