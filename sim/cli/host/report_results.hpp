#pragma once
// The sweep results CSV (docs/formats/results-csv.md), checked and typed: one ResultRow per simulated
// (configuration, strategy, placement). Columns that are not part of the contract are the sweep's own
// axes and are kept as text.
#include <limits>
#include <string>
#include <vector>

#include "sim/cli/host/report_csv.hpp"

namespace occult::report {

inline constexpr double kNotApplicable =
    std::numeric_limits<double>::quiet_NaN();  // a numeric cell the CSV left empty where allowed

struct ResultRow {
  long line = 0;  // line in the CSV, for messages
  std::string run_id, scenario, model, mode, topology, strategy, placement, overlap, profile;
  double devices = 0, gpus_per_node = 0, nodes = 0, tokens_per_device = 0;
  double t_total_s = 0, t_layout_s = 0, t_dispatch_s = 0, t_expert_s = 0, t_combine_s = 0, t_unpack_s = 0,
         t_bwd_s = 0;
  double comm_fraction = 0;
  double bytes_remote = 0, bytes_inter_node = 0, bytes_intra_node = 0;
  double ct_standard = 0, ct_occult = 0, ct_node = 0, intra_ratio = 0;
  double speedup_vs_standard = 0, sim_wall_s = 0;
  std::vector<std::string> axis_values;  // aligned with Results::axis_names
};

struct Results {
  std::string file;
  std::vector<std::string> axis_names;  // extra columns, in CSV order
  std::vector<ResultRow> rows;
};

// One typed column of the contract; `get` reads it back for tables and plots.
struct NumberColumn {
  const char* name;
  double ResultRow::*field;
  bool integer;       // devices, nodes, ...: whole numbers >= 1
  bool may_be_empty;  // left empty when not defined (speedup_vs_standard without a standard run)
};
struct TextColumn {
  const char* name;
  std::string ResultRow::*field;
};
const std::vector<NumberColumn>& number_columns();
const std::vector<TextColumn>& text_columns();

// Reads records of a results CSV with a given header into typed rows, checked as load_results says.
// The sweep's resume uses it too: a row counts as done only when `occult report` would accept it.
class ResultRowReader {
 public:
  // InputError when a contract column is missing from `header`.
  ResultRowReader(const std::vector<std::string>& header, std::string file);
  ResultRow read(const CsvRecord& rec) const;  // InputError(file, line, column, ...) when malformed
  const std::vector<std::string>& axis_names() const { return axis_names_; }

 private:
  std::string file_;
  std::size_t columns_ = 0;
  std::vector<long> number_idx_, text_idx_, axis_idx_;
  std::vector<std::string> axis_names_;
};

// Checks every contract column is present and every cell well formed: numbers finite and >= 0, whole
// numbers >= 1 where the column counts things, fractions in [0, 1], t_total_s > 0, a known strategy
// spelling, non-empty identity fields, at least one data row. Throws InputError(file, line, column, ...).
Results load_results(const CsvTable& table);

}  // namespace occult::report
