// Scenario files: parsing, defaults, --set overrides, sweep expansion and errors with file/line/key.
#include <gtest/gtest.h>

#include "sim/core/error.hpp"
#include "sim/core/scenario.hpp"
#include "test_scenario_util.hpp"

namespace occult {
namespace {

using test::TempDir;

struct Fixture {
  TempDir dir{"scenario_parse"};
  std::string topo = dir.file("topo.toml", test::kNodeTopology);
  ScenarioDoc doc(const std::string& text) const { return ScenarioDoc::parse(text, dir.path("s.toml")); }
};

InputError error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "no InputError";
  return InputError("none");
}

TEST(ScenarioParse, ResolvesPresetOverridesAndDefaults) {
  Fixture f;
  const Scenario s = f.doc(test::small_scenario()).resolve();
  EXPECT_EQ(s.name, "small");
  EXPECT_EQ(s.model.experts, 16);  // inline field overrides the preset
  EXPECT_EQ(s.model.top_k, 4);
  EXPECT_EQ(s.model.layers, 16);  // kept from the preset
  EXPECT_EQ(s.model_source, "preset olmoe-1b-7b");
  EXPECT_EQ(s.mode, Mode::Prefill);
  EXPECT_EQ(s.tokens_per_device, 256);
  EXPECT_EQ(s.devices, 8);  // all GPUs of the topology
  EXPECT_EQ(s.shape().gpus_per_node, 8);
  ASSERT_EQ(s.strategies.size(), 2u);
  EXPECT_EQ(s.strategies[1].base, Strategy::Occult);
  EXPECT_EQ(s.placements, std::vector<std::string>{"contiguous"});
  EXPECT_EQ(s.overlap, Overlap::None);
  EXPECT_TRUE(s.profile_path.empty());
  EXPECT_EQ(s.topology.source.empty() ? f.topo : s.topology.source, f.topo);
  EXPECT_EQ(s.resolved["workload.tokens_per_device"], 256);
  EXPECT_EQ(s.resolved["calibration.gemm_efficiency"], 0.6);
}

TEST(ScenarioParse, SetOverridesAnyKeyWithTypedValues) {
  Fixture f;
  auto d = f.doc(test::small_scenario());
  d.set("cluster.gpus_per_node=16");
  d.set("cluster.devices=16");
  d.set("compare.strategies=[\"occult\", \"pruned:2\"]");
  d.set("model.preset=qwen1.5-moe-a2.7b");  // a bare word is a string
  d.set("model.experts=32");
  d.set("overlap.mode=chunked");
  d.set("calibration.gemm_efficiency=0.5");
  const Scenario s = d.resolve();
  EXPECT_EQ(s.topology.gpus_per_node, 16);
  EXPECT_EQ(s.devices, 16);
  EXPECT_EQ(s.shape().nodes(), 1);
  EXPECT_EQ(s.strategies.size(), 2u);
  EXPECT_TRUE(s.strategies[1].pruned());
  EXPECT_EQ(s.model.hidden, 256);  // still the inline value
  EXPECT_EQ(s.model.experts, 32);
  EXPECT_EQ(s.overlap, Overlap::Chunked);
  EXPECT_EQ(s.chunks, 4);
  EXPECT_DOUBLE_EQ(s.roofline.gemm_efficiency, 0.5);
}

TEST(ScenarioParse, UnknownKeysAreErrorsNamingTheKey) {
  Fixture f;
  auto e = error_of([&] { f.doc(test::small_scenario()).set("cluster.nodez=4"); });
  EXPECT_EQ(e.field(), "cluster.nodez");
  EXPECT_NE(std::string(e.what()).find("cluster.nodes"), std::string::npos);  // suggests the known keys
  e = error_of([&] { f.doc(test::small_scenario("[extra]\nx = 1\n")); });
  EXPECT_EQ(e.field(), "extra.x");
  EXPECT_EQ(e.line(), 19);
  e = error_of([&] { f.doc(test::small_scenario()).set("no-equals-sign"); });
  EXPECT_EQ(e.file(), "--set");
}

TEST(ScenarioParse, WrongTypesNameFileLineAndKey) {
  Fixture f;
  auto e = error_of([&] { f.doc("[workload]\ntokens_per_device = \"many\"\n"); });
  EXPECT_EQ(e.field(), "workload.tokens_per_device");
  EXPECT_EQ(e.line(), 2);
  EXPECT_EQ(e.file(), f.dir.path("s.toml"));
  e = error_of([&] { f.doc(test::small_scenario()).set("workload.tokens_per_device=lots"); });
  EXPECT_EQ(e.field(), "workload.tokens_per_device");
  e = error_of([&] { f.doc("[model\npreset = 1\n"); });  // TOML syntax error: line from toml++
  EXPECT_EQ(e.line(), 1);
}

TEST(ScenarioParse, BadValuesAreReportedAtTheirLine) {
  Fixture f;
  InputError e("none");
  auto d = f.doc(test::small_scenario());
  d.set("model.preset=gpt-17");
  e = error_of([&] { d.resolve(); });
  EXPECT_EQ(e.field(), "model.preset");
  EXPECT_NE(std::string(e.what()).find("unknown preset"), std::string::npos);
  EXPECT_EQ(e.file(), "--set model.preset=gpt-17");

  std::string text = test::small_scenario();
  text.replace(text.find("\"standard\", \"occult\""), 20, "\"standard\", \"best\"");
  e = error_of([&] { f.doc(text).resolve(); });
  EXPECT_EQ(e.field(), "compare.strategies");
  EXPECT_EQ(e.line(), 16);

  d = f.doc(test::small_scenario());
  d.set("cluster.devices=16");
  e = error_of([&] { d.resolve(); });
  EXPECT_EQ(e.field(), "cluster.devices");
  EXPECT_NE(std::string(e.what()).find("only 8 GPUs"), std::string::npos);

  d = f.doc(test::small_scenario());
  d.set("cluster.devices=3");
  e = error_of([&] { d.resolve(); });
  EXPECT_NE(std::string(e.what()).find("does not divide"), std::string::npos);

  d = f.doc(test::small_scenario());
  d.set("workload.trace=/nonexistent/trace.bin");
  e = error_of([&] { d.resolve(); });
  EXPECT_EQ(e.field(), "workload.trace");
  EXPECT_NE(std::string(e.what()).find("not found"), std::string::npos);

  d = f.doc(test::small_scenario());
  d.set("cluster.topology=missing.toml");
  e = error_of([&] { d.resolve(); });
  EXPECT_EQ(e.field(), "cluster.topology");

  d = f.doc(test::small_scenario());
  d.set("compare.placements=[\"best-possible\"]");
  e = error_of([&] { d.resolve(); });
  EXPECT_EQ(e.field(), "compare.placements");

  d = f.doc(test::small_scenario());
  d.set("workload.affinity=1.5");
  e = error_of([&] { d.resolve(); });
  EXPECT_EQ(e.field(), "workload.affinity");

  d = f.doc(test::small_scenario());
  d.set("engine.flow_model=exact");
  e = error_of([&] { d.resolve(); });
  EXPECT_EQ(e.field(), "engine.flow_model");
  EXPECT_NE(std::string(e.what()).find("link-drain"), std::string::npos);  // lists the valid values
  d = f.doc(test::small_scenario());
  d.set("engine.flow_model=link-drain");
  EXPECT_EQ(d.resolve().flow_model, FlowModel::LinkDrain);
  d = f.doc(test::small_scenario());
  d.set("engine.flow_model=fluid");
  EXPECT_EQ(d.resolve().flow_model, FlowModel::Fluid);

  d = f.doc(test::small_scenario());
  d.set("engine.fluid_quantum=0.5");
  e = error_of([&] { d.resolve(); });
  EXPECT_EQ(e.field(), "engine.fluid_quantum");
  d = f.doc(test::small_scenario());
  EXPECT_LT(d.resolve().fluid_quantum, 0);  // unset: the engine picks by block size
  d.set("engine.fluid_quantum=0");
  EXPECT_EQ(d.resolve().fluid_quantum, 0.0);

  // An override that breaks the topology names the override and the topology's field it breaks.
  d = f.doc(test::small_scenario());
  d.set("cluster.topology=\"" OCCULT_SOURCE_DIR "/topologies/railopt-h200-1024.toml\"");
  d.set("cluster.gpus_per_node=4");  // 8 NICs per node
  e = error_of([&] { d.resolve(); });
  EXPECT_EQ(e.field(), "cluster.gpus_per_node");
  EXPECT_NE(std::string(e.what()).find("the topology's "), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("divide gpus_per_node"), std::string::npos) << e.what();
}

TEST(ScenarioParse, ErrorsBlameTheValueThatIsWrong) {
  Fixture f;
  // k larger than E: the key set on the command line, not the preset it overrides.
  auto d = f.doc(test::small_scenario());
  d.set("model.top_k=100");
  auto e = error_of([&] { d.resolve(); });
  EXPECT_EQ(e.field(), "model.top_k");
  EXPECT_EQ(e.file(), "--set model.top_k=100");
  EXPECT_NE(std::string(e.what()).find("exceeds the model's experts = 16"), std::string::npos) << e.what();
  d = f.doc(test::small_scenario());
  d.set("model.experts=2");
  e = error_of([&] { d.resolve(); });
  EXPECT_EQ(e.field(), "model.top_k");  // the file's top_k = 4 is what no longer fits
  EXPECT_EQ(e.line(), 5);
  // A bandwidth of 0 was refused with "must be in [0, 1000000000]".
  d = f.doc(test::small_scenario());
  d.set("cluster.nvlink_GBps=0");
  e = error_of([&] { d.resolve(); });
  EXPECT_EQ(e.field(), "cluster.nvlink_GBps");
  EXPECT_NE(std::string(e.what()).find("must be > 0"), std::string::npos) << e.what();
  d = f.doc(test::small_scenario());
  d.set("calibration.launch_us=-1");
  e = error_of([&] { d.resolve(); });
  EXPECT_NE(std::string(e.what()).find("must be in [0, 1000000000], got -1"), std::string::npos) << e.what();
}

TEST(ScenarioParse, OneRunIsNeverListedTwice) {
  Fixture f;
  auto d = f.doc(test::small_scenario());
  d.set("compare.strategies=[\"pruned:2\", \"pruned:2/score\"]");
  auto e = error_of([&] { d.resolve(); });
  EXPECT_EQ(e.field(), "compare.strategies");
  EXPECT_NE(std::string(e.what()).find("listed twice"), std::string::npos) << e.what();
  d = f.doc(test::small_scenario());
  d.set("compare.placements=[\"metis\", \"metis\"]");
  e = error_of([&] { d.resolve(); });
  EXPECT_EQ(e.field(), "compare.placements");
  e = error_of([&] { f.doc(test::small_scenario("[sweep]\ncluster.devices = [2, 4, 2]\n")); });
  EXPECT_EQ(e.field(), "sweep.cluster.devices");
  EXPECT_EQ(e.line(), 19);
}

TEST(ScenarioParse, CustomModelNeedsEveryField) {
  Fixture f;
  auto e = error_of(
      [&] { f.doc("[model]\nexperts = 8\ntop_k = 2\n[cluster]\ntopology = \"topo.toml\"\n").resolve(); });
  EXPECT_EQ(e.field(), "model.hidden");
  const Scenario s =
      f.doc("[model]\nexperts = 8\ntop_k = 2\nhidden = 64\nffn = 128\n[cluster]\ntopology = \"topo.toml\"\n")
          .resolve();
  EXPECT_EQ(s.model_source, "inline");
  EXPECT_EQ(s.model.experts, 8);
}

TEST(ScenarioSweep, ExpandsTheCartesianProductLastAxisFastest) {
  Fixture f;
  auto d = f.doc(test::small_scenario(
      "[sweep]\ncluster.devices = [2, 4, 8]\n\"compare.strategies\" = [[\"standard\"], [\"occult\"]]\n"));
  const auto axes = d.sweep_axes();
  ASSERT_EQ(axes.size(), 2u);
  EXPECT_EQ(axes[0].key, "cluster.devices");
  EXPECT_EQ(axes[1].key, "compare.strategies");
  const auto points = d.sweep_points();
  ASSERT_EQ(points.size(), 6u);
  EXPECT_EQ(points[0].values[0].second, "2");
  EXPECT_EQ(points[1].values[0].second, "2");
  EXPECT_EQ(points[2].values[0].second, "4");
  const Scenario s = points[5].doc->resolve();
  EXPECT_EQ(s.devices, 8);
  EXPECT_EQ(s.strategies[0].base, Strategy::Occult);
  EXPECT_EQ(points[0].doc->resolve().devices, 2);
}

TEST(ScenarioSweep, NoAxesIsOnePointAndSetPinsAnAxis) {
  Fixture f;
  EXPECT_EQ(f.doc(test::small_scenario()).sweep_points().size(), 1u);
  auto d = f.doc(test::small_scenario("[sweep]\ncluster.devices = [2, 4]\n"));
  d.set("cluster.devices=8");
  EXPECT_TRUE(d.sweep_axes().empty());
  EXPECT_EQ(d.sweep_points()[0].doc->resolve().devices, 8);
  d.set("sweep.workload.tokens_per_device=[64, 128]");
  ASSERT_EQ(d.sweep_points().size(), 2u);
  EXPECT_EQ(d.sweep_points()[1].doc->resolve().tokens_per_device, 128);
}

TEST(ScenarioSweep, BadAxesAreErrors) {
  Fixture f;
  auto e = error_of([&] { f.doc(test::small_scenario("[sweep]\ncluster.nodez = [1, 2]\n")); });
  EXPECT_EQ(e.field(), "cluster.nodez");
  e = error_of([&] { f.doc(test::small_scenario("[sweep]\ncluster.nodes = 4\n")); });
  EXPECT_EQ(e.field(), "sweep.cluster.nodes");
  e = error_of([&] { f.doc(test::small_scenario("[sweep]\ncluster.nodes = [1, \"two\"]\n")); });
  EXPECT_EQ(e.field(), "cluster.nodes");
  // A value that type-checks but is out of range fails when its point resolves, at the sweep's line.
  auto points = f.doc(test::small_scenario("[sweep]\ncluster.devices = [8, 0]\n")).sweep_points();
  e = error_of([&] { points[1].doc->resolve(); });
  EXPECT_EQ(e.field(), "cluster.devices");
  EXPECT_EQ(e.line(), 19);
}

TEST(ScenarioKeys, EveryKeyHasATypeAndHelp) {
  for (const auto& k : scenario_keys()) {
    EXPECT_NE(std::string(k.help), "") << k.key;
    EXPECT_NE(std::string(k.type), "") << k.key;
  }
}

}  // namespace
}  // namespace occult
