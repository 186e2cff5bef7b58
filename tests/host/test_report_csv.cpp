// CSV reading and the results contract: edge cases of quoting and line ends, and every bad-input case
// names the file, line and column.
#include <gtest/gtest.h>

#include <cmath>

#include "sim/core/error.hpp"
#include "sim/core/results_csv.hpp"
#include "test_report_fixture.hpp"

namespace occult::report {
namespace {

using testing::fake_csv;
using testing::FakeRow;

CsvTable parse(const std::string& text) { return parse_csv(text, "in.csv"); }

// Runs f, expects an InputError, returns it for inspection.
template <class F>
InputError input_error(F f) {
  try {
    f();
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "no InputError thrown";
  return InputError("none");
}

TEST(ReportCsv, PlainRecordsAndLineNumbers) {
  CsvTable t = parse("a,b\n1,2\n\n3,4");  // blank line skipped, no final newline
  ASSERT_EQ(t.header, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(t.records.size(), 2u);
  EXPECT_EQ(t.records[1].fields, (std::vector<std::string>{"3", "4"}));
  EXPECT_EQ(t.records[0].line, 2);
  EXPECT_EQ(t.records[1].line, 4);
  EXPECT_EQ(t.column("b"), 1);
  EXPECT_EQ(t.column("c"), -1);
}

TEST(ReportCsv, QuotedFieldsKeepCommasQuotesAndNewlines) {
  CsvTable t = parse("name,note\n\"a,b\",\"say \"\"hi\"\"\"\n\"two\nlines\",x\nlast,y\n");
  ASSERT_EQ(t.records.size(), 3u);
  EXPECT_EQ(t.records[0].fields[0], "a,b");
  EXPECT_EQ(t.records[0].fields[1], "say \"hi\"");
  EXPECT_EQ(t.records[1].fields[0], "two\nlines");
  EXPECT_EQ(t.records[1].line, 3);
  EXPECT_EQ(t.records[2].line, 5);  // the quoted line break counts
}

TEST(ReportCsv, CrlfBomAndSpacesAroundUnquotedFields) {
  CsvTable t = parse("\xEF\xBB\xBFrun_id, scenario\r\n 1 , x y \r\n\"\",\" kept \"\r\n");
  EXPECT_EQ(t.header, (std::vector<std::string>{"run_id", "scenario"}));
  EXPECT_EQ(t.records[0].fields, (std::vector<std::string>{"1", "x y"}));
  EXPECT_EQ(t.records[1].fields, (std::vector<std::string>{"", " kept "}));
  EXPECT_EQ(t.records[1].line, 3);
}

TEST(ReportCsv, MalformedInputNamesTheLine) {
  InputError e = input_error([] { parse("a,b\n1,\"open\n2,3\n"); });
  EXPECT_EQ(e.line(), 2);
  EXPECT_EQ(e.field(), "b");
  EXPECT_NE(e.message().find("unterminated"), std::string::npos);

  e = input_error([] { parse("a,b\n1,x\"y\n"); });
  EXPECT_EQ(e.line(), 2);
  EXPECT_EQ(e.field(), "b");

  e = input_error([] { parse("a,b\n\"x\"y,1\n"); });
  EXPECT_EQ(e.line(), 2);
  EXPECT_EQ(e.field(), "a");

  e = input_error([] { parse("a,b\n1,2\n1,2,3\n"); });
  EXPECT_EQ(e.line(), 3);
  EXPECT_NE(e.message().find("3 fields"), std::string::npos);

  e = input_error([] { parse("a,b,a\n"); });
  EXPECT_EQ(e.field(), "a");
  e = input_error([] { parse("a,,b\n"); });
  EXPECT_EQ(e.field(), "column 2");
  e = input_error([] { parse("\n\n"); });
  EXPECT_NE(e.message().find("empty"), std::string::npos);
  EXPECT_EQ(e.file(), "in.csv");
}

TEST(ReportCsv, UnreadableFile) {
  InputError e = input_error([] { read_csv_file("/nonexistent/results.csv"); });
  EXPECT_EQ(e.file(), "/nonexistent/results.csv");
  e = input_error([] { read_csv_file("/tmp"); });
  EXPECT_NE(e.message().find("directory"), std::string::npos);
}

TEST(ReportResults, TypedRowsAndSweepColumns) {
  Results r = load_results(
      parse(fake_csv({FakeRow("occult", "contiguous", 64, 1e-3, 2e-4, 2e-4, 1e8, 5e7, "2")}, true)));
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].run.strategy, "occult");
  EXPECT_EQ(r.rows[0].devices, 64);
  EXPECT_EQ(r.rows[0].nodes, 8);
  EXPECT_DOUBLE_EQ(r.rows[0].run.bytes_inter_node, 5e7);
  EXPECT_EQ(r.rows[0].run.backward_s, 0.0);                    // inference: no backward
  EXPECT_TRUE(std::isnan(r.rows[0].run.speedup_vs_standard));  // the one column that may be empty
  EXPECT_EQ(r.axis_names, (std::vector<std::string>{"fabric.oversub"}));
  EXPECT_EQ(r.rows[0].axis_values, (std::vector<std::string>{"2"}));
  EXPECT_EQ(r.rows[0].line, 2);
}

// Replaces the cell of `column` in the first data row.
std::string with_cell(const std::string& column, const std::string& value) {
  CsvTable t = parse(fake_csv({FakeRow{}, FakeRow("occult")}));
  std::string out;
  for (std::size_t i = 0; i < t.header.size(); ++i) out += (i ? "," : "") + t.header[i];
  out += "\n";
  for (std::size_t r = 0; r < t.records.size(); ++r) {
    for (std::size_t i = 0; i < t.header.size(); ++i) {
      std::string cell = (r == 0 && t.header[i] == column) ? value : t.records[r].fields[i];
      out += (i ? "," : "") + cell;
    }
    out += "\n";
  }
  return out;
}

TEST(ReportResults, BadCellsNameLineAndColumn) {
  struct Case {
    const char* column;
    const char* value;
    const char* says;
  };
  const Case cases[] = {
      {"t_total_s", "fast", "not a number"},
      {"t_total_s", "0", "> 0"},
      {"t_dispatch_s", "-1e-3", "negative"},
      {"bytes_remote", "1e3x", "not a number"},
      {"devices", "8.5", "whole number"},
      {"devices", "0", "whole number"},
      {"t_expert_s", "nan", "finite"},
      {"bytes_inter_node", "inf", "finite"},
      {"t_combine_s", "", "empty"},
      {"t_bwd_s", "", "empty"},
      {"comm_fraction", "1.5", "<= 1"},
      {"strategy", "fastest", "unknown strategy"},
      {"placement", "", "empty"},
  };
  for (const Case& c : cases) {
    InputError e = input_error([&] { load_results(parse(with_cell(c.column, c.value))); });
    EXPECT_EQ(e.field(), c.column) << c.column << "=" << c.value;
    EXPECT_EQ(e.line(), 2) << c.column << "=" << c.value;
    EXPECT_NE(e.message().find(c.says), std::string::npos) << e.what();
  }
}

TEST(ReportResults, MissingColumnAndNoRows) {
  std::string csv = fake_csv({FakeRow{}});
  std::string no_ct = csv;
  no_ct.replace(no_ct.find(",ct_node,"), 9, ",ct_nodes,");  // renamed: now a sweep column
  InputError e = input_error([&] { load_results(parse(no_ct)); });
  EXPECT_EQ(e.field(), "ct_node");
  EXPECT_NE(e.message().find("missing column"), std::string::npos);

  e = input_error([&] { load_results(parse(std::string(testing::kHeader) + "\n")); });
  EXPECT_NE(e.message().find("no data rows"), std::string::npos);
}

}  // namespace
}  // namespace occult::report
