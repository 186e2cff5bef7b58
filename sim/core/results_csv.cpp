#include "sim/core/results_csv.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "sim/core/error.hpp"
#include "sim/core/strategy.hpp"

namespace occult {
namespace {

// One fixed column, both directions: `get` gives the cell's value for writing, `set` stores a checked
// cell. Text columns use `text`/`set_text`; the others hold numbers.
struct Column {
  const char* name;
  enum class Kind {
    Text,
    Count,     // a whole number >= 1 (devices, nodes, ...), written as an integer
    Integer,   // written as an integer, read as any number >= 0
    Number,    // written with 9 significant digits
    Optional,  // a number, or empty when not defined (speedup_vs_standard without a standard run)
  } kind;
  std::string (*text)(const ResultRow&) = nullptr;
  void (*set_text)(ResultRow&, std::string) = nullptr;
  double (*get)(const ResultRow&) = nullptr;
  void (*set)(ResultRow&, double) = nullptr;
};
using K = Column::Kind;

// The slowest device's time in a forward phase; reading it back makes a phase of only that.
template <const char* Phase>
Column phase_column(const char* name) {
  return {name,
          K::Number,
          nullptr,
          nullptr,
          [](const ResultRow& r) { return r.run.phase_max(Phase); },
          [](ResultRow& r, double v) { r.run.phases[Phase].max_s = v; }};
}
constexpr char kLayout[] = "layout", kDispatch[] = "dispatch", kExpert[] = "expert", kCombine[] = "combine",
               kUnpack[] = "unpack";

#define OCCULT_TEXT(field) \
  [](const ResultRow& r) { return r.field; }, [](ResultRow& r, std::string v) { r.field = std::move(v); }
#define OCCULT_NUMBER(field) \
  [](const ResultRow& r) { return double(r.field); }, [](ResultRow& r, double v) { r.field = v; }

const std::vector<Column>& columns() {
  static const std::vector<Column> cols = {
      {"run_id", K::Text, OCCULT_TEXT(run_id)},
      {"scenario", K::Text, OCCULT_TEXT(scenario)},
      {"model", K::Text, OCCULT_TEXT(model)},
      {"mode", K::Text, OCCULT_TEXT(mode)},
      {"topology", K::Text, OCCULT_TEXT(topology)},
      {"devices", K::Count, nullptr, nullptr, OCCULT_NUMBER(devices)},
      {"gpus_per_node", K::Count, nullptr, nullptr, OCCULT_NUMBER(gpus_per_node)},
      {"nodes", K::Count, nullptr, nullptr, OCCULT_NUMBER(nodes)},
      {"tokens_per_device", K::Integer, nullptr, nullptr, OCCULT_NUMBER(tokens_per_device)},
      {"strategy", K::Text, OCCULT_TEXT(run.strategy)},
      {"placement", K::Text, OCCULT_TEXT(run.placement)},
      {"overlap", K::Text, OCCULT_TEXT(overlap)},
      {"t_total_s", K::Number, nullptr, nullptr, OCCULT_NUMBER(run.total_s)},
      phase_column<kLayout>("t_layout_s"),
      phase_column<kDispatch>("t_dispatch_s"),
      phase_column<kExpert>("t_expert_s"),
      phase_column<kCombine>("t_combine_s"),
      phase_column<kUnpack>("t_unpack_s"),
      {"t_bwd_s", K::Number, nullptr, nullptr, OCCULT_NUMBER(run.backward_s)},
      {"comm_fraction", K::Number, nullptr, nullptr, OCCULT_NUMBER(run.comm_fraction)},
      {"bytes_remote", K::Number, nullptr, nullptr, OCCULT_NUMBER(run.bytes_remote)},
      {"bytes_inter_node", K::Number, nullptr, nullptr, OCCULT_NUMBER(run.bytes_inter_node)},
      {"bytes_intra_node", K::Number, nullptr, nullptr, OCCULT_NUMBER(run.bytes_intra_node)},
      {"ct_standard", K::Number, nullptr, nullptr, OCCULT_NUMBER(run.ct_standard)},
      {"ct_occult", K::Number, nullptr, nullptr, OCCULT_NUMBER(run.ct_occult)},
      {"ct_node", K::Number, nullptr, nullptr, OCCULT_NUMBER(run.ct_node)},
      {"intra_ratio", K::Number, nullptr, nullptr, OCCULT_NUMBER(run.intra_ratio)},
      {"speedup_vs_standard", K::Optional, nullptr, nullptr, OCCULT_NUMBER(run.speedup_vs_standard)},
      {"profile", K::Text, OCCULT_TEXT(profile)},
      {"sim_wall_s", K::Number, nullptr, nullptr, OCCULT_NUMBER(run.wall_s)},
  };
  return cols;
}
#undef OCCULT_TEXT
#undef OCCULT_NUMBER

std::string quote(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

std::string num(double x) {
  if (!std::isfinite(x)) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", x);
  return buf;
}

// Appends piece by piece: `a + "," + b` chains trip GCC 12's -Wrestrict false positive at -O3.
std::string join_cells(const std::vector<std::string>& cells) {
  std::string line;
  for (const auto& c : cells) {
    if (!line.empty()) line += ',';
    line += c;
  }
  return line;
}

double parse_number(const std::string& cell, const Column& col, const std::string& file, long line) {
  if (cell.empty()) {
    if (col.kind == K::Optional) return kNotApplicable;
    throw InputError(file, line, col.name, "empty; a number is required");
  }
  double v = 0;
  auto [ptr, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
  if (ec != std::errc() || ptr != cell.data() + cell.size())
    throw InputError(file, line, col.name, "'" + cell + "' is not a number");
  if (!std::isfinite(v)) throw InputError(file, line, col.name, "'" + cell + "' is not a finite number");
  if (v < 0) throw InputError(file, line, col.name, "'" + cell + "' is negative");
  if (col.kind == K::Count && (v < 1 || v != std::floor(v)))
    throw InputError(file, line, col.name, "'" + cell + "' must be a whole number >= 1");
  return v;
}

void check_row(const ResultRow& r, const std::string& file) {
  if (r.run.total_s <= 0) throw InputError(file, r.line, "t_total_s", "must be > 0");
  if (r.run.comm_fraction > 1)
    throw InputError(file, r.line, "comm_fraction", "is a fraction and must be <= 1");
  if (r.run.intra_ratio > 1) throw InputError(file, r.line, "intra_ratio", "is a fraction and must be <= 1");
  for (const auto& c : columns()) {
    if (c.kind != K::Text || std::string(c.name) == "run_id" || std::string(c.name) == "overlap") continue;
    if (c.text(r).empty()) throw InputError(file, r.line, c.name, "empty");
  }
  try {
    parse_strategy(r.run.strategy);
  } catch (const InputError& e) {
    throw InputError(file, r.line, "strategy", e.message());
  }
}

}  // namespace

const std::vector<std::string>& results_csv_columns() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& c : columns()) n.push_back(c.name);
    return n;
  }();
  return names;
}

std::string results_csv_header(const std::vector<std::string>& axis_keys) {
  std::vector<std::string> cells = results_csv_columns();
  for (const auto& k : axis_keys) cells.push_back(quote(k));
  return join_cells(cells);
}

std::string results_csv_line(const ResultRow& r) {
  std::vector<std::string> cells;
  for (const auto& c : columns()) {
    switch (c.kind) {
      case K::Text:
        cells.push_back(quote(c.text(r)));
        break;
      case K::Count:
      case K::Integer:
        cells.push_back(std::to_string(static_cast<long long>(c.get(r))));
        break;
      case K::Number:
      case K::Optional:
        cells.push_back(num(c.get(r)));
        break;
    }
  }
  for (const auto& v : r.axis_values) cells.push_back(quote(v));
  return join_cells(cells);
}

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
  const auto& fixed = results_csv_columns();
  for (const auto& name : fixed) index_.push_back(column(name));
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (std::find(fixed.begin(), fixed.end(), header[i]) != fixed.end()) continue;
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
  // Numbers first, then text: a malformed number is reported before an empty text cell, as always.
  const auto& cols = columns();
  for (std::size_t c = 0; c < cols.size(); ++c)
    if (cols[c].kind != K::Text)
      cols[c].set(r, parse_number(rec.fields[static_cast<std::size_t>(index_[c])], cols[c], file_, rec.line));
  for (std::size_t c = 0; c < cols.size(); ++c)
    if (cols[c].kind == K::Text) cols[c].set_text(r, rec.fields[static_cast<std::size_t>(index_[c])]);
  for (long i : axis_idx_) r.axis_values.push_back(rec.fields[static_cast<std::size_t>(i)]);
  r.run.comm_s = kNotApplicable;  // the CSV does not keep it
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

Results read_results(const std::string& path) { return load_results(read_csv_file(path)); }

}  // namespace occult
