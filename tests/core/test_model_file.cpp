// Custom models from TOML: good files, presets as a base, and errors that name the line and field.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sim/core/error.hpp"
#include "sim/core/model.hpp"

namespace occult {
namespace {

std::string write_toml(const std::string& name, const std::string& text) {
  const auto p = (std::filesystem::temp_directory_path() / ("occult_model_" + name + ".toml")).string();
  std::ofstream(p) << text;
  return p;
}

TEST(ModelFile, ReadsEveryField) {
  auto p = write_toml("full",
                      "name = \"tiny-moe\"\nexperts = 32\ntop_k = 4\nhidden = 1024\nffn = 512\n"
                      "shared_experts = 1\nshared_ffn = 256\nlayers = 12\nelem_bytes = 1\n");
  ModelConfig m = load_model_file(p);
  EXPECT_EQ(m.name, "tiny-moe");
  EXPECT_EQ(m.experts, 32);
  EXPECT_EQ(m.top_k, 4);
  EXPECT_EQ(m.hidden, 1024);
  EXPECT_EQ(m.ffn, 512);
  EXPECT_EQ(m.shared_experts, 1);
  EXPECT_EQ(m.shared_ffn, 256);
  EXPECT_EQ(m.layers, 12);
  EXPECT_EQ(m.elem_bytes, 1);
}

TEST(ModelFile, PresetIsABaseThatFieldsOverride) {
  ModelConfig m =
      load_model_file(write_toml("preset", "preset = \"deepseek-v3\"\nname = \"dsv3-half\"\nlayers = 29\n"));
  ModelConfig ref = model_preset("deepseek-v3");
  EXPECT_EQ(m.name, "dsv3-half");
  EXPECT_EQ(m.experts, ref.experts);
  EXPECT_EQ(m.hidden, ref.hidden);
  EXPECT_EQ(m.layers, 29);
}

TEST(ModelFile, ErrorsNameLineAndField) {
  struct Case {
    const char* name;
    const char* text;
    long line;
    const char* field;
  };
  const Case cases[] = {
      {"kgtE", "name = \"a\"\nexperts = 4\ntop_k = 8\nhidden = 8\nffn = 8\nlayers = 1\n", 3, "top_k"},
      {"string_int", "name = \"a\"\nexperts = \"sixty\"\n", 2, "experts"},
      {"float_int", "name = \"a\"\nexperts = 6.5\n", 2, "experts"},
      {"unknown", "name = \"a\"\nexpert = 64\n", 2, "expert"},
      {"negative", "name = \"a\"\nexperts = 8\ntop_k = 2\nhidden = -8\nffn = 8\nlayers = 1\n", 4, "hidden"},
      {"bad_preset", "preset = \"gpt-moe\"\n", 1, "preset"},
      {"syntax", "name = \"a\"\nexperts = = 3\n", 2, ""},
      {"no_name", "experts = 8\n", 0, "name"},
      {"huge", "name = \"a\"\nexperts = 99999999999\n", 2, "experts"},
  };
  for (const auto& c : cases) {
    try {
      load_model_file(write_toml(c.name, c.text));
      ADD_FAILURE() << c.name << ": no error";
    } catch (const InputError& e) {
      EXPECT_EQ(e.line(), c.line) << c.name << ": " << e.what();
      EXPECT_EQ(e.field(), c.field) << c.name << ": " << e.what();
    }
  }
  EXPECT_THROW(load_model_file("/nonexistent/model.toml"), InputError);
}

TEST(ModelFile, CliAcceptsAModelFile) {
  auto p =
      write_toml("cli", "name = \"cli-moe\"\nexperts = 12\ntop_k = 3\nhidden = 64\nffn = 64\nlayers = 2\n");
  const auto out = (std::filesystem::temp_directory_path() / "occult_model_cli.trace").string();
  EXPECT_EQ(std::system((std::string(OCCULT_BIN) + " trace gen --model " + p + " --tokens 50 -o " + out +
                         " >/dev/null 2>&1")
                            .c_str()),
            0);
  auto bad = write_toml("cli_bad", "name = \"x\"\nexperts = 0\n");
  const int status = std::system(
      (std::string(OCCULT_BIN) + " trace gen --model " + bad + " -o " + out + " >/dev/null 2>&1").c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
  std::filesystem::remove(out);
}

}  // namespace
}  // namespace occult
