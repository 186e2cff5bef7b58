// occult analyze: the collaboration metrics of DESIGN.md 2 for a trace, a cluster shape and a placement.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/cli/commands.hpp"
#include "sim/core/error.hpp"
#include "sim/core/input_file.hpp"
#include "sim/core/memory_budget.hpp"
#include "sim/core/metrics.hpp"
#include "sim/core/model.hpp"
#include "sim/core/placement.hpp"
#include "sim/core/plan.hpp"
#include "sim/core/prune.hpp"
#include "sim/core/strategy.hpp"
#include "sim/core/trace.hpp"

namespace occult::cli {
namespace {

using nlohmann::json;

struct AnalyzeArgs {
  std::string trace, placement, strategy, model;
  int devices = 0, gpus_per_node = 0;
  std::optional<std::int64_t> row_bytes;
  bool json = false;
  bool matrices = false;
};

// Everything the run settled on, so that the output can say what it used.
struct Setup {
  Trace trace;
  ClusterShape shape;
  Placement placement;
  std::string placement_name;  // "contiguous (default)" or the file
  std::int64_t row_bytes = 0;
  std::string row_bytes_from;  // how row_bytes was chosen
  std::optional<StrategySpec> prune;
};

bool is_preset(const std::string& name) {
  const auto& names = model_preset_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

void choose_row_bytes(const AnalyzeArgs& a, Setup& s) {
  auto from_model = [&](const ModelConfig& m, const std::string& why) {
    s.row_bytes = m.row_bytes();
    s.row_bytes_from = "hidden " + std::to_string(m.hidden) + " x " + std::to_string(m.elem_bytes) +
                       " B of " + m.name + " (" + why + ")";
  };
  if (a.row_bytes) {
    if (*a.row_bytes < 1)
      throw InputError("", 0, "row-bytes", "must be >= 1, got " + std::to_string(*a.row_bytes));
    // Byte counts are 64-bit: every row any plan can send times the row size must fit, or the sums wrap
    // to nonsense (negative bytes). A token sends at most k copies per stage, and hierarchical has two.
    std::int64_t copies = 0;
    for (const auto& l : s.trace.layers) copies += 2 * l.tokens() * l.top_k;
    const std::int64_t most = std::numeric_limits<std::int64_t>::max() / std::max<std::int64_t>(copies, 1);
    if (*a.row_bytes > most)
      throw InputError(
          "", 0, "row-bytes",
          std::to_string(*a.row_bytes) + " B x " + std::to_string(copies) +
              " token copies (two stages of the trace's copies) overflows a 64-bit byte count; at most " +
              std::to_string(most));
    s.row_bytes = *a.row_bytes;
    s.row_bytes_from = "--row-bytes";
  } else if (!a.model.empty()) {
    from_model(
        a.model.ends_with(".toml") || names_input(a.model) ? load_model_file(a.model) : model_preset(a.model),
        "--model");
  } else if (is_preset(s.trace.model)) {
    from_model(model_preset(s.trace.model), "the trace's model");
  } else {
    s.row_bytes = 4096 * 2;
    s.row_bytes_from = "default hidden 4096 x 2 B (bf16); set --model or --row-bytes";
  }
}

// What the analysis allocates besides the trace (read_trace checked that): the dense D x D row matrices
// of the three strategies' plans (four with hierarchical's two stages), their JSON with --matrices, and
// the E x E expert similarities of similarity pruning.
std::uint64_t analysis_memory(const AnalyzeArgs& a, const Setup& s) {
  const auto D = std::uint64_t(s.shape.devices), E = std::uint64_t(s.trace.num_experts);
  std::uint64_t need = sat_product(D, D, 4 * sizeof(std::int64_t));
  if (a.matrices) need = sat_add(need, sat_product(D, D, s.trace.layers.size(), 4 * 48));
  if (s.prune && s.prune->criterion == PruneCriterion::Similarity) need = sat_add(need, sat_product(E, E, 8));
  return need;
}

Setup prepare(const AnalyzeArgs& a) {
  Setup s;
  s.trace = read_trace(a.trace);
  const int E = s.trace.num_experts;
  const int L = int(s.trace.layers.size());
  if (!a.placement.empty()) {
    s.placement = read_placement(a.placement);
    validate_placement(s.placement, E, L, a.placement);
    if (a.devices > 0 && a.devices != s.placement.shape.devices)
      throw InputError(a.placement, 0, "devices",
                       "placement is for " + std::to_string(s.placement.shape.devices) +
                           " devices, --devices is " + std::to_string(a.devices));
    s.shape = s.placement.shape;
    if (a.gpus_per_node > 0) s.shape.gpus_per_node = a.gpus_per_node;
    s.placement_name = a.placement + (s.placement.algo.empty() ? "" : " (" + s.placement.algo + ")");
  } else {
    if (a.devices < 1) throw InputError("", 0, "devices", "--devices is required without --placement");
    s.shape.devices = a.devices;
    // A node of 8 GPUs is the common case; smaller or odd clusters are one node unless told.
    s.shape.gpus_per_node = a.gpus_per_node > 0 ? a.gpus_per_node : (a.devices % 8 == 0 ? 8 : a.devices);
    validate_shape(s.shape);
    s.placement = contiguous_placement(E, s.shape, 1);
    s.placement_name = "contiguous (default)";
  }
  validate_shape(s.shape);
  choose_row_bytes(a, s);
  if (!a.strategy.empty()) {
    StrategySpec spec = parse_strategy(a.strategy);
    if (spec.pruned()) s.prune = spec;
  }
  check_memory(analysis_memory(a, s), "analyzing " + std::to_string(s.shape.devices) + " devices", "", 0,
               "devices");
  return s;
}

// ---- output for people ------------------------------------------------------------------------

// Byte counts are never negative: --row-bytes is bounded so that they cannot overflow.
std::string human_bytes(std::int64_t b) { return format_bytes(std::uint64_t(b), 2); }

std::string fmt(const char* f, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string pad(const std::string& s, std::size_t w) {
  return s.size() >= w ? s : std::string(w - s.size(), ' ') + s;
}

std::string layer_label(const LayerMetrics& m) { return m.layer >= 0 ? std::to_string(m.layer) : "all"; }

void print_table(const Setup& s, const std::vector<LayerMetrics>& layers, const LayerMetrics& all,
                 const std::optional<PruneFidelity>& fidelity) {
  const Trace& t = s.trace;
  std::cout << "trace: E=" << t.num_experts << " experts, k=" << t.top_k << ", " << t.layers.size()
            << " layer(s), " << t.tokens_per_layer() << " tokens in the first layer"
            << (t.model.empty() ? "" : ", model " + t.model) << "\n";
  std::cout << "cluster: D=" << s.shape.devices << " devices, G=" << s.shape.gpus_per_node
            << " per node, N=" << s.shape.nodes() << " node(s); placement: " << s.placement_name << "\n";
  std::cout << "row: " << s.row_bytes << " B per token copy (" << s.row_bytes_from << ")\n";
  std::cout << "tokens come from devices in contiguous blocks of equal size (DESIGN.md 4)\n";
  if (s.prune)
    std::cout << "pruned with " << s.prune->name()
              << " before measuring: every number below is for the pruned routing\n";

  std::cout
      << "\nReplicas per token: copies of one token that dispatch sends, counting the copy that stays on\n"
         "its own device (ct_*), and without it (remote_*). ct_standard = experts per token (k),\n"
         "ct_occult = distinct destination devices, ct_node = distinct destination nodes.\n"
         "intra_ratio = share of a token's co-chosen expert pairs that sit on one device.\n"
         "load = (token, expert) pairs on the busiest device / the mean over devices.\n\n";
  const std::size_t w = 11;
  std::cout << pad("layer", 6);
  for (const char* h :
       {"ct_std", "ct_occult", "ct_node", "rem_std", "rem_occult", "rem_node", "intra", "load"})
    std::cout << pad(h, w);
  std::cout << "\n";
  auto row = [&](const LayerMetrics& m) {
    std::cout << pad(layer_label(m), 6);
    for (double v : {m.ct_standard, m.ct_occult, m.ct_node, m.remote_ct_standard, m.remote_ct_occult,
                     m.remote_ct_node, m.intra_ratio, m.load_imbalance})
      std::cout << pad(fmt("%.3f", v), w);
    std::cout << "\n";
  };
  for (const auto& m : layers) row(m);
  if (layers.size() > 1) row(all);

  std::cout
      << "\nDispatch bytes moved between devices (the copy that stays local excluded; combine moves the\n"
         "same amount back). 'all' sums the layers; max columns are the busiest device of any layer.\n"
         "NVLink = between devices of one node, network = between nodes.\n\n";
  std::cout << pad("layer", 6) << pad("strategy", 14);
  for (const char* h : {"total", "NVLink", "network", "max send/dev", "max recv/dev", "max net send"})
    std::cout << pad(h, 14);
  std::cout << "\n";
  auto bytes_rows = [&](const LayerMetrics& m) {
    const std::pair<const char*, const ByteSummary*> rows[] = {{"standard", &m.bytes_standard},
                                                               {"occult", &m.bytes_occult},
                                                               {"hierarchical", &m.bytes_hierarchical}};
    for (const auto& [name, b] : rows) {
      std::cout << pad(layer_label(m), 6) << pad(name, 14);
      for (std::int64_t v :
           {b->total, b->intra_node, b->inter_node, b->max_send, b->max_recv, b->max_send_inter})
        std::cout << pad(human_bytes(v), 14);
      std::cout << "\n";
    }
  };
  for (const auto& m : layers) bytes_rows(m);
  if (layers.size() > 1) bytes_rows(all);
  if (all.bytes_standard.total > 0)
    std::cout << "occult / standard bytes: "
              << fmt("%.3f", double(all.bytes_occult.total) / double(all.bytes_standard.total))
              << ", hierarchical network / occult network bytes: "
              << (all.bytes_occult.inter_node > 0 ? fmt("%.3f", double(all.bytes_hierarchical.inter_node) /
                                                                    double(all.bytes_occult.inter_node))
                                                  : std::string("n/a (no network traffic)"))
              << "\n";

  std::cout << "\n(token, expert) pairs computed per device, all layers:\n";
  for (std::size_t d = 0; d < all.tokens_per_device.size(); ++d)
    std::cout << (d % 8 == 0 ? (d ? "\n  " : "  ") : " ") << "d" << d << "=" << all.tokens_per_device[d];
  std::cout << "\n";

  if (fidelity) {
    std::cout << "\nPruning fidelity (" << s.prune->name() << "): choices kept "
              << fmt("%.4f", fidelity->choice_fraction()) << " of " << fidelity->choices
              << ", gate mass kept " << fmt("%.4f", fidelity->mass_fraction()) << ", tokens pruned "
              << fidelity->tokens_pruned << " of " << fidelity->tokens;
    if (s.prune->criterion == PruneCriterion::Similarity)
      std::cout << ", choices replaced by a similar expert " << fidelity->replaced;
    std::cout << "\n(from top-k logs only: see docs/metrics.md for what this does and does not tell)\n";
  }
}

json fidelity_json(const StrategySpec& spec, const PruneFidelity& f) {
  return {{"strategy", spec.name()},
          {"choices", f.choices},
          {"kept_choices", f.kept_choices},
          {"choice_fraction", f.choice_fraction()},
          {"gate_mass", f.gate_mass},
          {"kept_gate_mass", f.kept_gate_mass},
          {"mass_fraction", f.mass_fraction()},
          {"replaced", f.replaced},
          {"tokens", f.tokens},
          {"tokens_pruned", f.tokens_pruned}};
}

// The row matrices of every strategy's dispatch plan: {"standard": [[stage rows]], ...}, each stage a
// D x D array (source row, destination column) of rows, the diagonal being rows that stay local.
json plan_matrices(const LayerRouting& routing, const Setup& s, const LayerPlacement& lp) {
  json out;
  const std::pair<const char*, Strategy> strategies[] = {{"standard", Strategy::Standard},
                                                         {"occult", Strategy::Occult},
                                                         {"hierarchical", Strategy::Hierarchical}};
  for (const auto& [name, strategy] : strategies) {
    const CommPlan plan = build_plan(routing, s.trace.num_experts, lp, s.shape, strategy, s.row_bytes);
    json stages = json::array();
    for (const PlanStage& stage : plan.stages) {
      json rows = json::array();
      for (int src = 0; src < stage.rows.size(); ++src) {
        json row = json::array();
        for (int dst = 0; dst < stage.rows.size(); ++dst) row.push_back(stage.rows.at(src, dst));
        rows.push_back(std::move(row));
      }
      const char* kind = stage.kind == PlanStage::Kind::Direct    ? "direct"
                         : stage.kind == PlanStage::Kind::Network ? "network"
                                                                  : "node_fanout";
      stages.push_back({{"kind", kind}, {"rows", std::move(rows)}});
    }
    out[name] = std::move(stages);
  }
  return out;
}

void run(const AnalyzeArgs& a) {
  Setup s = prepare(a);
  if (a.matrices && !a.json) throw InputError("", 0, "matrices", "--matrices needs --json");
  std::vector<LayerMetrics> layers;
  json matrices = json::array();
  std::optional<PruneFidelity> fidelity;
  if (s.prune) fidelity.emplace();
  std::int64_t total_tokens = 0;
  for (const auto& l : s.trace.layers) total_tokens += l.tokens();
  const bool progress = total_tokens >= (std::int64_t(1) << 22);  // a few seconds or more
  for (std::size_t l = 0; l < s.trace.layers.size(); ++l) {
    if (progress) std::cerr << "analyze: layer " << l + 1 << "/" << s.trace.layers.size() << "\n";
    const LayerRouting& routing = s.trace.layers[l];
    const LayerPlacement& lp = s.placement.layer(l);
    if (s.prune) {
      PrunedLayer pruned = prune_layer(routing, lp, s.shape, *s.prune);
      fidelity->merge(pruned.fidelity);
      layers.push_back(analyze_layer(pruned.routing, lp, s.shape, s.row_bytes));
      if (a.matrices) matrices.push_back(plan_matrices(pruned.routing, s, lp));
    } else {
      layers.push_back(analyze_layer(routing, lp, s.shape, s.row_bytes));
      if (a.matrices) matrices.push_back(plan_matrices(routing, s, lp));
    }
  }
  const LayerMetrics all = aggregate_layers(layers);
  if (!a.json) {
    print_table(s, layers, all, fidelity);
    return;
  }
  json doc;
  doc["trace"] = a.trace;
  doc["experts"] = s.trace.num_experts;
  doc["top_k"] = s.trace.top_k;
  doc["model"] = s.trace.model;
  doc["devices"] = s.shape.devices;
  doc["gpus_per_node"] = s.shape.gpus_per_node;
  doc["nodes"] = s.shape.nodes();
  doc["placement"] = a.placement.empty() ? "contiguous" : a.placement;
  doc["placement_algo"] = s.placement.algo;
  doc["row_bytes"] = s.row_bytes;
  doc["row_bytes_from"] = s.row_bytes_from;
  doc["units"] = {
      {"ct", "replicas per token"},
      {"bytes", "bytes per layer, dispatch direction (combine is the same), local copies excluded"},
      {"tokens_per_device", "(token, expert) pairs computed on each device"}};
  doc["pruning"] = fidelity ? fidelity_json(*s.prune, *fidelity) : json(nullptr);
  json per_layer = json::array();
  for (std::size_t l = 0; l < layers.size(); ++l) {
    per_layer.push_back(layer_metrics_to_json(layers[l]));
    if (a.matrices) per_layer.back()["plan_rows"] = std::move(matrices[l]);
  }
  doc["layers"] = std::move(per_layer);
  doc["overall"] = layer_metrics_to_json(all);
  std::cout << doc.dump(2) << "\n";
}

}  // namespace

void add_analyze_command(CLI::App& app) {
  auto a = std::make_shared<AnalyzeArgs>();
  CLI::App* c = app.add_subcommand(
      "analyze",
      "Collaboration metrics of a routing trace on a cluster (DESIGN.md 2): replicas per token for\n"
      "standard EP (ct_standard = k), Occult's one copy per destination device (ct_occult) and per node\n"
      "(ct_node), with remote-only variants; intra_ratio (share of co-chosen expert pairs on one device);\n"
      "dispatch bytes per strategy (standard, occult, hierarchical) with per-device and per-link-class\n"
      "maxima; (token, expert) pairs per device and load imbalance. Per layer and over all layers.\n"
      "Definitions: docs/metrics.md.");
  c->footer(
      "Examples:\n"
      "  occult trace gen --model olmoe-1b-7b --tokens 8192 --layers 4 -o /tmp/t.bin\n"
      "  occult analyze --trace /tmp/t.bin --devices 8 --gpus-per-node 4\n"
      "  occult analyze --trace /tmp/t.bin --placement /tmp/p.json --json\n"
      "  occult analyze --trace /tmp/t.bin --devices 16 --strategy pruned:2/similarity\n"
      "Exit code 2 on bad input (unreadable trace, D not dividing E, G not dividing D, a placement for\n"
      "another expert or layer count).");
  c->add_option("--trace", a->trace,
                "trace file (occult's format: `occult trace import` or `trace gen`); '-': standard input")
      ->required();
  // Unset means "from the placement" or a default; an explicit 0 is an error, not that default.
  c->add_option("--devices", a->devices,
                "D, devices (GPUs) in expert parallelism; must divide E. Taken from --placement when given")
      ->check(CLI::Range(1, 1 << 24));
  c->add_option(
       "--gpus-per-node", a->gpus_per_node,
       "G, devices per node; must divide D. Default: the placement's, else 8 when 8 divides D, else D")
      ->check(CLI::Range(1, 1 << 24));
  c->add_option(
      "--placement", a->placement,
      "placement.json from `occult place` (default: contiguous, experts e*D/E.. on device e/(E/D))");
  c->add_option(
      "--strategy", a->strategy,
      "prune each token's routing first: pruned:N (at most N devices) or node-limited:M (at most M "
      "nodes), optionally /score (default) or /similarity; standard|occult|hierarchical: no pruning "
      "(all three are always reported)");
  c->add_option(
      "--model", a->model,
      "model preset or .toml whose hidden size x element size is the row (token copy) size; default: "
      "the trace's model when it is a preset, else 4096 x 2 B");
  c->add_option("--row-bytes", a->row_bytes, "bytes of one token copy, >= 1 (overrides --model)");
  c->add_flag("--json", a->json, "print one JSON document on stdout (bytes as integers) instead of tables");
  c->add_flag("--matrices", a->matrices,
              "with --json: add each layer's dispatch plan per strategy as D x D row matrices per stage "
              "(layers[i].plan_rows; bytes = rows x row_bytes; combine = stages reversed, transposed)");
  c->callback([a] { run(*a); });
}

}  // namespace occult::cli
