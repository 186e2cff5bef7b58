// occult place: expert placement from the co-activation graph of a trace (docs/placement.md).
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/cli/commands.hpp"
#include "sim/core/error.hpp"
#include "sim/core/memory_budget.hpp"
#include "sim/core/output_file.hpp"
#include "sim/core/placement.hpp"
#include "sim/core/trace.hpp"
#include "sim/place/algorithms.hpp"
#include "sim/place/trace_placer.hpp"

namespace occult::cli {
namespace {

using nlohmann::json;

struct PlaceArgs {
  std::string trace, out, algo,
      recent_weight = place::kCliRecentWeight == 0 ? "auto" : std::to_string(place::kCliRecentWeight);
  int devices = 0, gpus_per_node = 1, replicate = 0, restarts = place::kCliRestarts, jobs = 1;
  double profile_fraction = 1.0, max_load_ratio = 1.1;
  std::uint64_t seed = 1;
  bool json = false;
};

std::string algo_list() {
  std::string s;
  for (const auto& n : place::algo_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

void print_row(const char* name, const json& m) {
  std::cout << std::left << std::setw(10) << name << std::right << std::setw(10)
            << m.at("tokens").get<std::int64_t>() << std::fixed << std::setprecision(4) << std::setw(11)
            << m.at("ct_occult").get<double>() << std::setw(9) << m.at("ct_node").get<double>()
            << std::setw(13) << m.at("intra_ratio").get<double>() << std::setw(10)
            << m.at("load_imbalance_mean").get<double>() << std::setw(10)
            << m.at("load_imbalance_max").get<double>() << "\n";
}

void print_text(const PlaceArgs& a, const Placement& p) {
  std::cout << "placed " << p.layers.size() << " layer(s): E=" << p.num_experts << " on D=" << p.shape.devices
            << " (G=" << p.shape.gpus_per_node << ") with " << p.algo;
  if (a.replicate > 0) std::cout << ", " << a.replicate << " replicas";
  std::cout << " -> " << a.out << "\n\n";
  std::cout << "set            tokens  ct_occult  ct_node  intra_ratio  load(mean  max)\n";
  for (const char* set : {"profile", "holdout"})
    if (p.metrics.contains(set)) print_row(set, p.metrics.at(set));
  if (p.metrics.contains("holdout_optimum")) {
    std::cout
        << "\nin-sample optimum of the holdout (placed from the holdout itself; the gap to the holdout row\n"
           "is what placing from the profile costs):\n";
    print_row("optimum", p.metrics.at("holdout_optimum"));
  }
  if (p.metrics.contains("baseline_contiguous")) {
    std::cout << "\ncontiguous placement on the same tokens, for comparison:\n";
    for (const char* set : {"profile", "holdout"})
      if (p.metrics["baseline_contiguous"].contains(set))
        print_row(set, p.metrics["baseline_contiguous"].at(set));
  }
  std::cout << "\nload = (token, expert) pairs per device, max / mean: mean over layers and worst layer.\n";
  if (p.params.contains("load_bound_per_layer")) {
    int unmet = 0;
    for (const auto& b : p.params["load_bound_per_layer"]) unmet += !b.at("met").get<bool>();
    std::cout << "load bound max/mean <= " << a.max_load_ratio << " on the profile: "
              << (unmet == 0 ? "met in every layer" : "NOT met in " + std::to_string(unmet) + " layer(s)")
              << "\n";
  }
}

int parse_recent_weight(const std::string& s) {
  if (s == "auto") return 0;
  std::size_t used = 0;
  int w = -1;
  try {
    w = std::stoi(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != s.size() || w < 1)
    throw InputError("", 0, "recent-weight", "must be auto or an integer >= 1, got \"" + s + "\"");
  return w;
}

void run_place(const PlaceArgs& a) {
  place::PlaceOptions o;
  o.algo = place::parse_algo(a.algo);
  o.shape = {a.devices, a.gpus_per_node};
  o.replicate = a.replicate;
  o.max_load_ratio = a.max_load_ratio;
  o.restarts = a.restarts;
  o.seed = a.seed;
  o.recent_weight = parse_recent_weight(a.recent_weight);
  if (a.out == "-")
    throw InputError("", 0, "output", "give a file: the report of the placement is on stdout");
  refuse_overwriting_input(a.out, {a.trace}, "output");
  const Trace trace = read_trace(a.trace);
  place::validate_options(o, trace.num_experts);  // before any work: bad shapes fail fast
  // The co-activation graph and the partitioner's working copies are dense (E + R) x (E + R) int64
  // matrices, about three per layer being placed; --jobs layers are placed at a time.
  const auto V = std::uint64_t(trace.num_experts + a.replicate);
  check_memory(
      sat_product(V, V, 3 * 8,
                  std::uint64_t(std::clamp<std::size_t>(std::size_t(a.jobs), 1, trace.layers.size()))),
      "placing " + std::to_string(V) + " experts", "", 0, "trace");
  const std::size_t L = trace.layers.size();
  auto progress = [&](std::size_t done) {
    if (L >= 8 && (done % std::max<std::size_t>(1, L / 10) == 0 || done == L))
      std::cerr << "occult place: " << done << "/" << L << " layers\n";
  };
  Placement p = place::place_trace(trace, o, a.profile_fraction, progress, a.jobs);
  p.metrics = place::evaluate_split(trace, p, a.profile_fraction);
  // The baselines do not read the tokens: no optimum to compare with.
  if (o.algo != place::Algo::Contiguous && o.algo != place::Algo::RoundRobin)
    if (auto best = place::holdout_optimum(trace, o, a.profile_fraction, a.jobs); !best.is_null())
      p.metrics["holdout_optimum"] = std::move(best);
  if (trace.num_experts % a.devices == 0 && o.algo != place::Algo::Contiguous)
    p.metrics["baseline_contiguous"] = place::evaluate_split(
        trace, contiguous_placement(trace.num_experts, o.shape, int(L)), a.profile_fraction);
  write_placement(p, a.out);
  if (a.json) {
    json doc = {{"output", a.out},
                {"algo", p.algo},
                {"experts", p.num_experts},
                {"devices", a.devices},
                {"gpus_per_node", a.gpus_per_node},
                {"layers", L},
                {"params", p.params},
                {"metrics", p.metrics}};
    std::cout << doc.dump(2) << "\n";
  } else {
    print_text(a, p);
  }
}

}  // namespace

void add_place_command(CLI::App& app) {
  auto a = std::make_shared<PlaceArgs>();
  auto* cmd = app.add_subcommand(
      "place",
      "Place experts on devices from the co-activation graph of a routing trace.\n"
      "Each layer is placed independently from its first --profile-fraction of tokens; the metrics of the\n"
      "result (ct_occult, ct_node, intra_ratio, load max/mean; DESIGN.md 2) are printed for those tokens\n"
      "and for the rest (holdout), next to the contiguous placement, and stored in the output file.\n"
      "Algorithms: contiguous, round-robin (baselines); greedy (the Occult paper's clustering); metis\n"
      "(balanced METIS partition + swap refinement of ct_occult); hierarchical (nodes by ct_node, then GPUs\n"
      "inside each node); load-aware (metis under a bound on max/mean device load).\n"
      "Example: occult place --trace t.trace --devices 8 --gpus-per-node 4 --algo metis \\\n"
      "           --profile-fraction 0.5 -o placement.json\n"
      "Evaluate the file on another trace with: occult analyze --trace other.trace --devices 8 \\\n"
      "           --gpus-per-node 4 --placement placement.json");
  cmd->add_option("--trace", a->trace, "routing trace in the project's format (occult trace import / gen)")
      ->required();
  cmd->add_option("--devices,-D", a->devices, "D: devices in expert parallelism; must divide E (+ replicas)")
      ->required();
  cmd->add_option("--gpus-per-node,-G", a->gpus_per_node, "G: devices per node; must divide D")
      ->capture_default_str();
  cmd->add_option("--algo,-a", a->algo, "algorithm: " + algo_list())->required();
  cmd->add_option("-o,--output", a->out, "placement file to write (JSON, docs/formats.md)")->required();
  cmd->add_option("--profile-fraction", a->profile_fraction,
                  "fraction (0, 1] of each layer's tokens, from the start, used for placing; the rest is the "
                  "holdout the metrics are also reported on")
      ->capture_default_str();
  cmd->add_option("--replicate", a->replicate,
                  "R: extra copies of the R hottest experts (one each, EPLB-like); D must divide E + R. "
                  "Dispatch sends a token to a copy on a device it already uses when there is one")
      ->capture_default_str();
  cmd->add_option("--max-load-ratio", a->max_load_ratio,
                  "load-aware: bound on max / mean (token, expert) pairs per device on the profile")
      ->capture_default_str();
  cmd->add_option("--restarts", a->restarts,
                  "metis, hierarchical, load-aware: METIS seeds and perturb-and-refine rounds per stage")
      ->capture_default_str();
  cmd->add_option("--recent-weight", a->recent_weight,
                  "W: the later half of each layer's profile tokens counts W times (routing drifts, e.g. "
                  "prefill -> decode). auto: W from {1, 2, 3, 4, 6, 8} chosen on the profile alone (placed "
                  "from its first half, scored on its second half, all layers together); costs 6 placements "
                  "of half the profile more. The defaults of --restarts and --recent-weight did best in "
                  "cross-validation on the profiles of real logs (docs/placement.md)")
      ->capture_default_str();
  cmd->add_option("--seed", a->seed, "seed of METIS and of the refinement; same seed, same placement")
      ->capture_default_str();
  cmd->add_option("--jobs,-j", a->jobs, "layers placed at a time (threads); the result does not depend on it")
      ->capture_default_str();
  cmd->add_flag("--json", a->json, "print one JSON document (parameters and metrics) on stdout");
  cmd->callback([a] { run_place(*a); });
}

}  // namespace occult::cli
