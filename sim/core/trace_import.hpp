#pragma once
// Importing real routing logs (JSONL, NumPy .npy) into a Trace; docs/traces.md describes the
// accepted conventions.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/trace.hpp"

namespace occult {

enum class LogFormat { Auto, Jsonl, Npy };  // Auto: .npy magic bytes decide, anything else is JSONL

struct ImportOptions {
  int experts = 0;        // E; 0 = infer as (largest id + 1) and report it
  int top_k = 0;          // k; 0 = taken from the first record
  std::string model;      // preset name stored in the trace
  bool skip_bad = false;  // count and skip malformed records instead of failing on the first
  // Degenerate (dummy) blocks, see DegenerateDrop: keep_degenerate reports them but keeps their records.
  bool keep_degenerate = false;
  std::int64_t degenerate_min_run = 32;   // fewest records of a degenerate block
  std::vector<std::string> weight_files;  // .npy gate weights, matched in order with the .npy inputs
  LogFormat format = LogFormat::Auto;
};

// A block of dummy routing: consecutive forward passes of one (file, layer) in which every record picks
// the same expert set (or, where the log does not tell passes apart, a run of such records), at least
// degenerate_min_run records long. Found wherever it sits in the log.
struct DegenerateDrop {
  std::string file;
  int layer = 0;
  std::int64_t records = 0;
  std::vector<std::int32_t> experts;  // the repeated expert set, sorted
  std::int64_t first_record = 0;      // 0-based position among this file's records of the layer
  long line = 0;                      // input line (.npy: row) of its first record
  std::int64_t passes = 0;            // forward passes it spans (records, when passes_known is false)
  bool passes_known = false;          // the log marks passes ("pass" or restarting "token_idx")
  bool dropped = true;                // false under keep_degenerate
};

struct ImportReport {
  std::int64_t records = 0;        // route records read (before dropping degenerate ones)
  std::int64_t typed_skipped = 0;  // JSONL lines with a "type" other than "route" (meta headers, ...)
  std::int64_t bad_records = 0;    // malformed records skipped under skip_bad
  std::string first_bad;           // the error of the first of them
  // Records removed (0 under keep_degenerate), and every degenerate block found, in input order.
  std::int64_t degenerate_dropped = 0;
  std::vector<DegenerateDrop> drops;
  bool experts_inferred = false;  // E came from the largest id seen
};

// Reads every input (several layers per file, or one file per layer; records of one layer from
// several files are concatenated in input order), drops degenerate (dummy) blocks, validates.
// Throws InputError(file, line, field, ...) on bad input unless skip_bad covers it.
Trace import_trace(const std::vector<std::string>& inputs, const ImportOptions& opts, ImportReport* report);

}  // namespace occult
