// The guard in front of toml++ (sim/core/toml_text.hpp): non-ASCII text where toml++ 3.4 would reach
// undefined behaviour is refused with its line; in comments and one-line `key = "string"` values it is
// parsed as before.
#include <gtest/gtest.h>

#include "sim/core/error.hpp"
#include "sim/core/toml_text.hpp"

namespace occult {
namespace {

TEST(TomlText, NonAsciiInCommentsAndOneLineStringsIsFine) {
  EXPECT_FALSE(
      unsafe_toml_text("# caf\xC3\xA9\na = \"\xC3\xA9t\xC3\xA9\"  # caf\xC3\xA9\nb.c = 'na\xC3\xAFve'\n"));
  EXPECT_FALSE(unsafe_toml_text("\xEF\xBB\xBFname = \"bom first\"\nn = 4  # \xC2\xA7\n"));
  EXPECT_FALSE(unsafe_toml_text("e = \"escaped \\\" quote \xC2\xA7\"\n"));
  EXPECT_FALSE(unsafe_toml_text("s = \"\"\"\nascii only\n\"\"\"\n"));  // multi-line strings are fine in ASCII
  const toml::table t = parse_toml("a = \"\xC3\xA9t\xC3\xA9\"  # caf\xC3\xA9\n", "x.toml");
  EXPECT_EQ(t["a"].value<std::string>().value_or(""), "\xC3\xA9t\xC3\xA9");
}

// Each of these reached __builtin_unreachable in toml++ 3.4 (UBSan), most found by fuzz/fuzz_*.cpp:
// non-ASCII where a key, a value or whitespace may stand, after a backslash in a string (#190), inside
// a bare token, or after an '=' inside junk.
TEST(TomlText, NonAsciiElsewhereIsRefusedWithItsLine) {
  const char* cases[] = {
      "a = 1\n\xEF\xBB\xBB"
      "calg2 = 2\n",
      "x = \"ok\"\ny =\xC2\xA7 3\n",
      "k = 1\n\xCC\xAA\n",
      "t = 4\"\"\"\"\xEF\xBB\xBB\"\"\"\"\n",
      "n = 0'90\xEF\xB1\xBF"
      "0\n",
      "m = \"\"\"097\nm \\\xCC\x85l\"\"\"\n",
      "\"\"\"x\\ \t\t \xEF\xB3\xBF= 1\"\"\"\n",
      "b = \"x\\\xC2\xA7\"\n",
      "skew = 0./N=\"0.\xD2\x91sw\"\n",
      "a = [\"\xC2\xA7\"]\n",  // arrays, inline tables, quoted keys: refused, though valid
      "\"\xC2\xA7\" = 1\n",
      "s = \"\"\"\n\xC2\xA7\n\"\"\"\n",  // any non-ASCII once the file has a multi-line string
  };
  for (const char* text : cases) EXPECT_TRUE(unsafe_toml_text(text)) << text;
  const auto p = unsafe_toml_text("a = 1\nb = 2\n\xCC\xAA\n");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->line, 3);
  try {
    parse_toml("k = 1\n\xCC\xAA\n", "bad.toml");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), "bad.toml");
    EXPECT_EQ(e.line(), 2);
  }
}

TEST(TomlText, ParseErrorsAndMissingFilesAreInputErrors) {
  EXPECT_THROW(parse_toml("a = = 1\n", "e.toml"), InputError);
  EXPECT_THROW(parse_toml_file("/nonexistent/x.toml", "cannot open"), InputError);
}

}  // namespace
}  // namespace occult
