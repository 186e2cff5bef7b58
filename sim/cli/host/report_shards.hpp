#pragma once
// Several results files as one report: the shards of a sweep run as a job array (`occult sweep
// --shard i/N`, one file per shard; docs/sweeps-on-a-cluster.md). Files are merged by run_id; what a
// plain concatenation would hide is reported instead: the same run in two files (kept once) and points
// of the sweep's grid that no file has.
#include <string>
#include <vector>

#include "sim/core/results_csv.hpp"

namespace occult::report {

// The results files named by `args`: files as given, folders as the *.csv files directly inside them
// (sorted by name). InputError when a folder holds none or a path does not exist.
std::vector<std::string> expand_results_paths(const std::vector<std::string>& args);

struct MergedResults {
  Results results;                 // every run once, in file order
  std::size_t duplicates = 0;      // rows dropped because their run_id came earlier
  std::size_t conflicting = 0;     // of those, rows whose simulated times differ from the kept row
  std::size_t missing = 0;         // grid points (scenario x axis values x strategy x placement) absent
  std::vector<std::string> notes;  // one line per finding (the first few of each kind), for stderr
};

// Merges loaded files. InputError when their sweep axes differ (not shards of one sweep). Missing
// points are inferred from the grid the rows span: per scenario, every combination of the axis values,
// strategies and placements seen in any file; a value no file has at all cannot be seen.
MergedResults merge_results(const std::vector<Results>& parts);

}  // namespace occult::report
