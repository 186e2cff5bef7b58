// occult trace import | gen | stats
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "sim/cli/commands.hpp"
#include "sim/core/error.hpp"
#include "sim/core/input_file.hpp"
#include "sim/core/memory_budget.hpp"
#include "sim/core/model.hpp"
#include "sim/core/output_file.hpp"
#include "sim/core/trace.hpp"
#include "sim/core/trace_gen.hpp"
#include "sim/core/trace_import.hpp"
#include "sim/core/trace_stats.hpp"

namespace occult::cli {
namespace {

using nlohmann::json;

// A preset name, or a TOML model file (a path ending in .toml or naming an existing file).
ModelConfig resolve_model(const std::string& spec) {
  if (spec.ends_with(".toml") || names_input(spec)) return load_model_file(spec);
  return model_preset(spec);
}

std::string preset_list() {
  std::string s;
  for (const auto& n : model_preset_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

// ---- import ----------------------------------------------------------------------------------

struct ImportArgs {
  std::vector<std::string> inputs;
  std::string out, model, format = "auto";
  ImportOptions opts;
  bool json = false;
};

void print_import_report(const ImportArgs& a, const Trace& t, const ImportReport& r) {
  // With -o - the trace itself is on stdout: the report goes to stderr.
  std::ostream& out = a.out == "-" ? std::cerr : std::cout;
  std::int64_t kept = 0;
  for (const auto& l : t.layers) kept += l.tokens();
  if (a.json) {
    json drops = json::array();
    for (const auto& d : r.drops)
      drops.push_back({{"file", d.file},
                       {"layer", d.layer},
                       {"first_record", d.first_record},
                       {"line", d.line},
                       {"records", d.records},
                       {"passes", d.passes},
                       {"passes_known", d.passes_known},
                       {"dropped", d.dropped},
                       {"expert_set", d.experts}});
    json doc = {{"output", a.out},
                {"experts", t.num_experts},
                {"experts_inferred", r.experts_inferred},
                {"top_k", t.top_k},
                {"layers", t.layers.size()},
                {"records_read", r.records},
                {"records_kept", kept},
                {"typed_lines_skipped", r.typed_skipped},
                {"bad_records_skipped", r.bad_records},
                {"first_bad_record", r.first_bad},
                {"degenerate_dropped", r.degenerate_dropped},
                {"degenerate_runs", drops}};
    out << doc.dump(2) << "\n";
    return;
  }
  out << "wrote " << a.out << ": E=" << t.num_experts
      << (r.experts_inferred ? " (inferred: largest id + 1)" : "") << ", k=" << t.top_k << ", "
      << t.layers.size() << " layer(s), " << kept << " records kept\n";
  out << "  records read: " << r.records << ", typed non-route lines skipped: " << r.typed_skipped << "\n";
  if (r.bad_records > 0)
    out << "  bad records skipped (--skip-bad): " << r.bad_records << "; first: " << r.first_bad
              << "\n";
  out << "  degenerate (dummy) blocks: " << r.drops.size()
            << ", records dropped: " << r.degenerate_dropped
            << (a.opts.keep_degenerate && !r.drops.empty() ? " (kept: --keep-degenerate)" : "") << "\n";
  for (const auto& d : r.drops) {
    out << "    " << d.file << " layer " << d.layer << ": records " << d.first_record << ".."
              << d.first_record + d.records - 1 << " (from line " << d.line << "), " << d.records
              << " records";
    if (d.passes_known) out << " in " << d.passes << " forward pass(es)";
    out << ", expert set [";
    for (std::size_t i = 0; i < d.experts.size(); ++i) out << (i ? "," : "") << d.experts[i];
    out << "]\n";
  }
  for (const auto& l : t.layers) out << "  layer " << l.layer << ": " << l.tokens() << " tokens\n";
}

void add_import(CLI::App& trace) {
  auto a = std::make_shared<ImportArgs>();
  auto* c = trace.add_subcommand(
      "import",
      "Read routing logs (JSONL or .npy) and write an occult trace.\n"
      "JSONL: one record per line with `layer`, `topk_ids` (or `experts`) and optionally\n"
      "`topk_weights` (or `gating_probs`); lines whose `type` is not \"route\" are skipped.\n"
      ".npy: integer ids [tokens, k] (layer = trailing number of the file name, else the\n"
      "input's position) or [layers, tokens, k]; gate weights via --weights.\n"
      "Forward passes on dummy input (profiling, warm-up, CUDA graph capture, restarts) are\n"
      "dropped wherever they sit and reported: consecutive passes whose records all pick one\n"
      "expert set, at least --degenerate-min records (passes: a \"pass\" field or a restarting\n"
      "\"token_idx\"; without either, runs of identical expert sets).\n"
      "Example: occult trace import logs/moe_layer*.jsonl --model qwen1.5-moe-a2.7b -o q.trace");
  c->add_option("inputs", a->inputs,
                "routing logs; several layers per file or one file per layer; '-' is standard input, and\n"
                "pipes (<(zcat log.jsonl.gz)) work")
      ->required();
  c->add_option("-o,--output", a->out, "output trace file (binary, docs/formats/trace.md); '-': stdout")
      ->required();
  // Unset means "infer"; an explicit 0 is an error, not a silent "infer".
  c->add_option("--experts", a->opts.experts,
                "E, routed experts; ids >= E are errors (default: largest id + 1)")
      ->check(CLI::Range(1, 1 << 20));
  c->add_option("--top-k", a->opts.top_k, "k, ids per record (default: from the first record)")
      ->check(CLI::Range(1, 1024));
  c->add_option("--model", a->model, "preset (" + preset_list() + ") or a model .toml; sets E and k");
  c->add_flag("--skip-bad", a->opts.skip_bad,
              "count and skip malformed records instead of stopping at the first");
  c->add_flag("--keep-degenerate", a->opts.keep_degenerate, "report degenerate (dummy) blocks but keep them");
  c->add_option("--degenerate-min", a->opts.degenerate_min_run,
                "fewest records of a block of one-expert-set passes treated as dummy routing")
      ->default_val(32);
  c->add_option("--weights", a->opts.weight_files,
                ".npy gate weights, one per .npy input, same order and shape");
  c->add_option("--format", a->format, "input format: auto (by .npy magic), jsonl or npy")
      ->default_val("auto")
      ->check(CLI::IsMember({"auto", "jsonl", "npy"}));
  c->add_flag("--json", a->json, "print the import report as one JSON document");
  c->callback([a] {
    if (!a->model.empty()) {
      ModelConfig m = resolve_model(a->model);
      if ((a->opts.experts > 0 && a->opts.experts != m.experts) ||
          (a->opts.top_k > 0 && a->opts.top_k != m.top_k))
        throw InputError("", 0, "model", "--experts/--top-k contradict model " + m.name);
      a->opts.experts = m.experts;
      a->opts.top_k = m.top_k;
      a->opts.model = m.name;
    }
    a->opts.format = a->format == "jsonl" ? LogFormat::Jsonl
                     : a->format == "npy" ? LogFormat::Npy
                                          : LogFormat::Auto;
    std::vector<std::string> inputs = a->inputs;
    inputs.insert(inputs.end(), a->opts.weight_files.begin(), a->opts.weight_files.end());
    refuse_overwriting_input(a->out, inputs, "output");
    ImportReport report;
    Trace t = import_trace(a->inputs, a->opts, &report);
    write_trace(t, a->out);
    print_import_report(*a, t, report);
  });
}

// ---- gen -------------------------------------------------------------------------------------

void add_gen(CLI::App& trace) {
  auto p = std::make_shared<TraceGenParams>();
  auto out = std::make_shared<std::string>();
  auto model = std::make_shared<std::string>();
  auto* c = trace.add_subcommand(
      "gen",
      "Generate synthetic routing with controllable load skew and co-activation.\n"
      "Each token draws its first expert by popularity (Zipf, exponent --skew, ranks\n"
      "shuffled per layer); each further expert comes with probability --affinity from\n"
      "the first expert's co-activation group (--groups random groups per layer), else\n"
      "by popularity. Experts of a token are distinct; gate weights are a sorted softmax.\n"
      "Deterministic under --seed.\n"
      "Fits to real logs (docs/traces.md): Qwen1.5-MoE --skew 0.2 --affinity 0.5 --groups 12;\n"
      "Mixtral-8x7B --skew 0.35 --affinity 0.3 --groups 3.\n"
      "Example: occult trace gen --model deepseek-v3 --tokens 65536 --layers 4 "
      "--skew 0.2 --affinity 0.5 --groups 24 -o dsv3.trace");
  c->add_option("-o,--output", *out, "output trace file; '-': stdout")->required();
  auto* e = c->add_option("--experts", p->experts, "E, routed experts per layer")->default_val(64);
  auto* k = c->add_option("--top-k", p->top_k, "k, experts per token")->default_val(8);
  c->add_option("--model", *model, "preset (" + preset_list() + ") or a model .toml; sets E and k")
      ->excludes(e)
      ->excludes(k);
  c->add_option("--tokens", p->tokens, "tokens per layer")->default_val(8192);
  c->add_option("--layers", p->layers, "layers to generate (indices 0..layers-1)")->default_val(1);
  c->add_option("--skew", p->skew, "Zipf exponent of expert popularity; 0 = uniform, ~1 = strongly skewed")
      ->default_val(0.0);
  c->add_option("--affinity", p->affinity,
                "probability in [0,1] that each further expert comes from the first expert's group")
      ->default_val(0.0);
  c->add_option("--groups", p->groups, "co-activation groups per layer; 0 = E / k")->default_val(0);
  c->add_option("--gate-temperature", p->gate_temperature, "softmax temperature of the gate logits")
      ->default_val(1.0);
  c->add_option("--seed", p->seed, "random seed; same seed, same trace")->default_val(1);
  c->callback([p, out, model] {
    if (!model->empty()) {
      ModelConfig m = resolve_model(*model);
      p->experts = m.experts;
      p->top_k = m.top_k;
      p->model = m.name;
    }
    validate_gen_params(*p);
    // Every layer is held until the file is written: ids and weights, 8 bytes per (token, expert).
    check_memory(sat_product(std::uint64_t(p->tokens), std::uint64_t(p->top_k), std::uint64_t(p->layers), 8),
                 "generating " + std::to_string(p->tokens) + " tokens x " + std::to_string(p->layers) +
                     " layers x top-" + std::to_string(p->top_k),
                 "", 0, "tokens");
    Trace t;
    t.num_experts = p->experts;
    t.top_k = p->top_k;
    t.model = p->model;
    t.source = describe_gen_params(*p);
    for (int l = 0; l < p->layers; ++l) {
      t.layers.push_back(generate_layer(*p, l));
      if (p->layers > 1) std::cerr << "\rgen: layer " << (l + 1) << "/" << p->layers << std::flush;
    }
    if (p->layers > 1) std::cerr << "\n";
    write_trace(t, *out);
    (*out == "-" ? std::cerr : std::cout) << "wrote " << *out << ": " << t.source << "\n";
  });
}

// ---- stats -----------------------------------------------------------------------------------

json layer_json(const LayerStats& s) {
  json pairs = json::array();
  for (const auto& p : s.top_pairs)
    pairs.push_back({{"a", p.a}, {"b", p.b}, {"count", p.count}, {"lift", p.lift}});
  json j = {{"layer", s.layer},
            {"tokens", s.tokens},
            {"load", s.load},
            {"load_max_over_mean", s.load_max_over_mean},
            {"load_cv", s.load_cv},
            {"zipf_exponent", s.zipf_exponent},
            {"unused_experts", s.unused_experts}};
  if (s.has_pairs) {
    j["top10_pair_share"] = s.top10_pair_share;
    j["mean_lift"] = s.mean_lift;
    j["top_pairs"] = pairs;
  }
  return j;
}

void print_stats_text(const std::string& in, const Trace& t, const TraceStats& st) {
  std::printf("%s: E=%d, k=%d, %zu layer(s), %lld tokens%s%s\n", in.c_str(), st.experts, st.top_k,
              st.layers.size(), static_cast<long long>(st.tokens), t.model.empty() ? "" : ", model ",
              t.model.c_str());
  if (!t.source.empty()) std::printf("source: %s\n", t.source.c_str());
  std::printf("\n%6s %9s %9s %7s %6s %7s %12s %6s\n", "layer", "tokens", "max/mean", "cv", "zipf", "unused",
              "top10%pairs", "lift");
  auto row = [](const char* name, std::int64_t tokens, double mm, double cv, double z, int unused, bool pairs,
                double share, double lift) {
    std::printf("%6s %9lld %9.3f %7.3f %6.3f %7d ", name, static_cast<long long>(tokens), mm, cv, z, unused);
    if (pairs)
      std::printf("%12.3f %6.3f\n", share, lift);
    else
      std::printf("%12s %6s\n", "-", "-");
  };
  for (const auto& s : st.layers)
    row(std::to_string(s.layer).c_str(), s.tokens, s.load_max_over_mean, s.load_cv, s.zipf_exponent,
        s.unused_experts, s.has_pairs, s.top10_pair_share, s.mean_lift);
  int unused_total = 0;
  for (const auto& s : st.layers) unused_total += s.unused_experts;
  if (st.layers.size() > 1)
    row("all", st.tokens, st.load_max_over_mean, st.load_cv, st.zipf_exponent, unused_total, st.has_pairs,
        st.top10_pair_share, st.mean_lift);

  // Experts per bin of load / mean load, over all layers.
  constexpr double kWidth = 0.25;
  constexpr int kBins = 12;
  std::vector<int> hist(kBins, 0);
  for (const auto& s : st.layers) {
    auto h = load_histogram(s.load, kWidth, kBins);
    for (int i = 0; i < kBins; ++i) hist[std::size_t(i)] += h[std::size_t(i)];
  }
  const int most = *std::max_element(hist.begin(), hist.end());
  std::printf("\nexpert load histogram (load / mean load; experts, all layers):\n");
  for (int i = 0; i < kBins; ++i) {
    const int bar = most > 0 ? (hist[std::size_t(i)] * 50 + most - 1) / most : 0;
    if (i + 1 < kBins)
      std::printf("  [%4.2f, %4.2f) %6d %s\n", i * kWidth, (i + 1) * kWidth, hist[std::size_t(i)],
                  std::string(std::size_t(bar), '#').c_str());
    else
      std::printf("  [%4.2f,  inf) %6d %s\n", i * kWidth, hist[std::size_t(i)],
                  std::string(std::size_t(bar), '#').c_str());
  }
  if (!st.layers.empty() && st.layers.front().has_pairs) {
    const auto& s = st.layers.front();
    std::printf("\nmost co-activated pairs, layer %d (count, lift over independence):\n", s.layer);
    for (const auto& p : s.top_pairs)
      std::printf("  (%d, %d) %lld %.2f\n", p.a, p.b, static_cast<long long>(p.count), p.lift);
  } else if (t.top_k >= 2) {
    std::printf("\nco-activation not computed: E > %d\n", kMaxPairExperts);
  }
}

void add_stats(CLI::App& trace) {
  auto in = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto top = std::make_shared<int>(10);
  auto* c = trace.add_subcommand(
      "stats",
      "Statistics of a trace: tokens, layers, expert load (max/mean, coefficient of\n"
      "variation, fitted Zipf exponent, histogram) and co-activation (share of\n"
      "co-activations in the top 10% of expert pairs; mean lift of co-chosen pairs over\n"
      "independent choice, 1 = no structure; most co-activated pairs).\n"
      "Example: occult trace stats q.trace --json");
  c->add_option("trace", *in,
                "trace file written by `occult trace import` or `occult trace gen` ('-': stdin)")
      ->required();
  c->add_flag("--json", *as_json, "one JSON document on stdout (per-layer loads and top pairs included)");
  c->add_option("--top-pairs", *top, "how many most co-activated pairs to list per layer")
      ->default_val(10)
      ->check(CLI::Range(0, 100000));
  c->callback([in, as_json, top] {
    const Trace t = read_trace(*in);
    const TraceStats st = trace_stats(t, *top);
    if (!*as_json) return print_stats_text(*in, t, st);
    json layers = json::array();
    for (const auto& s : st.layers) layers.push_back(layer_json(s));
    json doc = {{"trace", *in},
                {"model", t.model},
                {"source", t.source},
                {"experts", st.experts},
                {"top_k", st.top_k},
                {"layers", st.layers.size()},
                {"tokens", st.tokens},
                {"summary",
                 {{"load_max_over_mean", st.load_max_over_mean},
                  {"load_max_over_mean_max", st.load_max_over_mean_max},
                  {"load_cv", st.load_cv},
                  {"zipf_exponent", st.zipf_exponent}}},
                {"per_layer", layers}};
    if (st.has_pairs) {
      doc["summary"]["top10_pair_share"] = st.top10_pair_share;
      doc["summary"]["mean_lift"] = st.mean_lift;
    }
    std::cout << doc.dump(2) << "\n";
  });
}

}  // namespace

void add_trace_command(CLI::App& app) {
  auto* trace =
      app.add_subcommand("trace", "Routing traces: import real logs, generate synthetic ones, statistics");
  trace->require_subcommand(1);
  add_import(*trace);
  add_gen(*trace);
  add_stats(*trace);
}

}  // namespace occult::cli
