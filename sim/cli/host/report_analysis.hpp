#pragma once
// Aggregation of sweep results: rows that share every input but strategy and placement form a
// configuration; within it, the fastest `standard` row is the baseline (the strongest standard EP, any
// placement), every row's speedup is t_total(baseline) / t_total(row), and the fastest row wins.
#include <cstddef>
#include <string>
#include <vector>

#include "sim/core/results_csv.hpp"

namespace occult::report {

// An input column that can tell configurations apart (scenario, model, devices, a sweep axis, ...).
struct Dimension {
  std::string name;
  std::vector<std::string> values;  // distinct; ascending when all numeric, else in CSV order
  bool numeric = false;
  bool varies = false;     // more than one value in the file
  bool redundant = false;  // varies, but follows from the dimensions before it (nodes from devices)
};

// A (strategy, placement) pair: one line in every plot.
struct Series {
  std::string strategy, placement;
  std::string label;  // "occult / greedy", or just "occult" when the file has one placement
  std::size_t strategy_slot = 0, placement_slot = 0;  // rank among distinct strategies / placements
};

struct Config {
  std::vector<std::size_t> key;   // per dimension, the index of its value
  std::vector<std::size_t> rows;  // indices into Results::rows, in series order
  long baseline = -1;             // fastest standard row, or -1 when the configuration has none
  std::size_t winner = 0;         // fastest row (ties: the earlier series)
  long best_other = -1;           // fastest row of a strategy other than the winner's, or -1
  // The same among exact strategies only (no pruning: results identical to standard EP); -1 if none.
  long exact_winner = -1;
  long exact_best_other = -1;
};

// Configurations that differ only in the plot's x dimension: one panel of plots.
struct Panel {
  std::string title;                 // "topology=fat-tree, mode=training"; empty for a single panel
  std::vector<std::size_t> configs;  // sorted by x value
};

// Per value of one varying dimension: how many configurations each series won.
struct AxisWins {
  std::size_t dim = 0;
  std::vector<std::size_t> configs;            // per value
  std::vector<std::vector<std::size_t>> wins;  // [value][series]
};

struct Analysis {
  std::vector<Dimension> dims;
  std::vector<std::size_t> shown;       // varying, non-redundant dimensions, in order
  long x_dim = -1;                      // plot x axis: devices when it varies, else the first shown
  std::vector<Series> series;           // standard first, then occult, hierarchical, pruned, node-limited
  std::vector<std::size_t> row_series;  // per row
  std::vector<std::size_t> row_config;  // per row
  std::vector<double> speedup;          // per row; NaN when its configuration has no standard row
  std::vector<Config> configs;          // sorted by the shown dimensions
  std::vector<Panel> panels;
  std::vector<AxisWins> wins;                            // one per shown dimension
  std::vector<std::string> scenarios, profiles, models;  // distinct values, in CSV order

  // "devices=64, topology=fat-tree": the shown dimensions' values (all: every dimension).
  std::string config_label(const Config& c, bool all = false) const;
  // The value of dimension d for configuration c.
  const std::string& value(const Config& c, std::size_t d) const { return dims[d].values[c.key[d]]; }
};

// Throws InputError when two rows have the same configuration, strategy and placement (the report could
// not tell which one to show).
Analysis analyze_results(const Results& results);

}  // namespace occult::report
