#include "sim/cli/host/report_results.hpp"

#include <charconv>
#include <cmath>

#include "sim/core/error.hpp"
#include "sim/core/results_columns.hpp"
#include "sim/core/strategy.hpp"

namespace occult::report {

const std::vector<NumberColumn>& number_columns() {
  static const std::vector<NumberColumn> cols = {
      {"devices", &ResultRow::devices, true, false},
      {"gpus_per_node", &ResultRow::gpus_per_node, true, false},
      {"nodes", &ResultRow::nodes, true, false},
      {"tokens_per_device", &ResultRow::tokens_per_device, false, false},
      {"t_total_s", &ResultRow::t_total_s, false, false},
      {"t_layout_s", &ResultRow::t_layout_s, false, false},
      {"t_dispatch_s", &ResultRow::t_dispatch_s, false, false},
      {"t_expert_s", &ResultRow::t_expert_s, false, false},
      {"t_combine_s", &ResultRow::t_combine_s, false, false},
      {"t_unpack_s", &ResultRow::t_unpack_s, false, false},
      {"t_bwd_s", &ResultRow::t_bwd_s, false, false},
      {"comm_fraction", &ResultRow::comm_fraction, false, false},
      {"bytes_remote", &ResultRow::bytes_remote, false, false},
      {"bytes_inter_node", &ResultRow::bytes_inter_node, false, false},
      {"bytes_intra_node", &ResultRow::bytes_intra_node, false, false},
      {"ct_standard", &ResultRow::ct_standard, false, false},
      {"ct_occult", &ResultRow::ct_occult, false, false},
      {"ct_node", &ResultRow::ct_node, false, false},
      {"intra_ratio", &ResultRow::intra_ratio, false, false},
      {"speedup_vs_standard", &ResultRow::speedup_vs_standard, false, true},
      {"sim_wall_s", &ResultRow::sim_wall_s, false, false},
  };
  return cols;
}

const std::vector<TextColumn>& text_columns() {
  static const std::vector<TextColumn> cols = {
      {"run_id", &ResultRow::run_id},       {"scenario", &ResultRow::scenario},
      {"model", &ResultRow::model},         {"mode", &ResultRow::mode},
      {"topology", &ResultRow::topology},   {"strategy", &ResultRow::strategy},
      {"placement", &ResultRow::placement}, {"overlap", &ResultRow::overlap},
      {"profile", &ResultRow::profile},
  };
  return cols;
}

namespace {

bool is_contract_column(const std::string& name) {
  for (const auto& c : number_columns())
    if (name == c.name) return true;
  for (const auto& c : text_columns())
    if (name == c.name) return true;
  return false;
}

double parse_number(const std::string& cell, const NumberColumn& col, const std::string& file, long line) {
  if (cell.empty()) {
    if (col.may_be_empty) return kNotApplicable;
    throw InputError(file, line, col.name, "empty; a number is required");
  }
  double v = 0;
  auto [ptr, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
  if (ec != std::errc() || ptr != cell.data() + cell.size())
    throw InputError(file, line, col.name, "'" + cell + "' is not a number");
  if (!std::isfinite(v)) throw InputError(file, line, col.name, "'" + cell + "' is not a finite number");
  if (v < 0) throw InputError(file, line, col.name, "'" + cell + "' is negative");
  if (col.integer && (v < 1 || v != std::floor(v)))
    throw InputError(file, line, col.name, "'" + cell + "' must be a whole number >= 1");
  return v;
}

void check_row(const ResultRow& r, const std::string& file) {
  if (r.t_total_s <= 0) throw InputError(file, r.line, "t_total_s", "must be > 0");
  if (r.comm_fraction > 1) throw InputError(file, r.line, "comm_fraction", "is a fraction and must be <= 1");
  if (r.intra_ratio > 1) throw InputError(file, r.line, "intra_ratio", "is a fraction and must be <= 1");
  for (const auto& c : text_columns()) {
    if (std::string(c.name) == "run_id" || std::string(c.name) == "overlap") continue;
    if ((r.*c.field).empty()) throw InputError(file, r.line, c.name, "empty");
  }
  try {
    parse_strategy(r.strategy);
  } catch (const InputError& e) {
    throw InputError(file, r.line, "strategy", e.message());
  }
}

}  // namespace

ResultRowReader::ResultRowReader(const std::vector<std::string>& header, std::string file)
    : file_(std::move(file)) {
  auto column = [&](const std::string& name) {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return long(i);
    return -1L;
  };
  // All missing columns in one message, in the contract's order, so one fix-up pass is enough.
  std::string missing;
  for (const std::string& name : results_csv_columns())
    if (column(name) < 0) missing += (missing.empty() ? "" : ", ") + name;
  if (!missing.empty()) {
    std::string first = missing.substr(0, missing.find(','));
    throw InputError(file_, 1, first,
                     "missing column" + std::string(missing.find(',') == std::string::npos ? "" : "s") + " " +
                         missing + " (see docs/formats/results-csv.md)");
  }
  for (const auto& c : number_columns()) number_idx_.push_back(column(c.name));
  for (const auto& c : text_columns()) text_idx_.push_back(column(c.name));
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (is_contract_column(header[i])) continue;
    axis_names_.push_back(header[i]);
    axis_idx_.push_back(static_cast<long>(i));
  }
  columns_ = header.size();
}

ResultRow ResultRowReader::read(const CsvRecord& rec) const {
  if (rec.fields.size() != columns_)
    throw InputError(file_, rec.line, "",
                     "record has " + std::to_string(rec.fields.size()) + " fields, the header has " +
                         std::to_string(columns_));
  ResultRow r;
  r.line = rec.line;
  const auto& ncols = number_columns();
  for (std::size_t c = 0; c < ncols.size(); ++c)
    r.*ncols[c].field =
        parse_number(rec.fields[static_cast<std::size_t>(number_idx_[c])], ncols[c], file_, rec.line);
  const auto& tcols = text_columns();
  for (std::size_t c = 0; c < tcols.size(); ++c)
    r.*tcols[c].field = rec.fields[static_cast<std::size_t>(text_idx_[c])];
  for (long i : axis_idx_) r.axis_values.push_back(rec.fields[static_cast<std::size_t>(i)]);
  check_row(r, file_);
  return r;
}

Results load_results(const CsvTable& table) {
  Results res;
  res.file = table.file;
  const ResultRowReader reader(table.header, table.file);
  res.axis_names = reader.axis_names();
  if (table.records.empty()) throw InputError(table.file, 0, "", "no data rows after the header");
  for (const auto& rec : table.records) res.rows.push_back(reader.read(rec));
  return res;
}

}  // namespace occult::report
