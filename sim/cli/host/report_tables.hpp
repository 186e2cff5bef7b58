#pragma once
// The report's tables as plain cells, so that the HTML and Markdown writers render the same content.
#include <string>
#include <vector>

#include "sim/cli/host/report_analysis.hpp"

namespace occult::report {

struct Table {
  std::vector<std::string> header;
  std::vector<bool> text_column;               // left-aligned (names) rather than numbers
  std::vector<std::vector<std::string>> rows;  // cells as displayed
  std::vector<std::string> row_class;          // per row: "win", "base" or ""
};

// One line per series that wins somewhere ("occult / greedy wins 5 of 8 configurations, by 1.12x to
// 1.90x, at devices=64..1024"), then one per series that never wins, with its best speedup.
std::vector<std::string> headlines(const Analysis& a);

// One row per configuration: its shown dimensions, the winner, speedup, layer time and why.
Table summary_table(const Results& res, const Analysis& a);

// Per shown dimension (when there are at least two): per value, how many configurations each series won.
struct TitledTable {
  std::string title;
  Table table;
};
std::vector<TitledTable> wins_tables(const Analysis& a);

// Every row of one panel with its phases, bytes and copies per token.
Table results_table(const Results& res, const Analysis& a, const Panel& panel);

// "name: value" facts about the input: file, scenarios, models, profiles, what is fixed, what varies.
std::vector<std::pair<std::string, std::string>> context_facts(const Results& res, const Analysis& a);

}  // namespace occult::report
