#include "backend/job_setup.hpp"

#include <algorithm>
#include <cstdlib>

#include "backend/bootstrap.hpp"
#include "sim/core/error.hpp"
#include "sim/core/model.hpp"
#include "sim/core/placement.hpp"
#include "sim/core/scenario.hpp"
#include "sim/core/trace_gen.hpp"

namespace occult::gpu {
namespace {

int mpi_world_from_env() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MPI_LOCALNRANKS"})
    if (const char* s = std::getenv(v)) return std::atoi(s);
  return 0;
}

LayerPlacement load_placement(const std::string& spec, int experts, const ClusterShape& shape) {
  if (spec == "contiguous") return contiguous_placement(experts, shape, 1).layers[0];
  if (spec == "round-robin") return round_robin_placement(experts, shape, 1).layers[0];
  if (spec.size() < 5 || spec.substr(spec.size() - 5) != ".json")
    throw InputError("", 0, "placement",
                     "'" + spec +
                         "' is neither contiguous, round-robin nor a placement .json; make one with "
                         "`occult place ... -o P.json` (the other algorithms need the host tools)");
  Placement p = read_placement(spec);
  validate_placement(p, experts, 1, spec);
  if (p.shape.devices != shape.devices)
    throw InputError(spec, 0, "devices",
                     "the placement is for " + std::to_string(p.shape.devices) + " devices, the run has " +
                         std::to_string(shape.devices) + " GPUs");
  return p.layer(0);
}

bool gpu_runs_strategy(const std::string& name) {
  const StrategySpec s = parse_strategy(name);
  return !s.pruned() && (s.base == Strategy::Standard || s.base == Strategy::Occult);
}

bool gpu_runs_placement(const std::string& spec) {
  return spec == "contiguous" || spec == "round-robin" ||
         (spec.size() >= 5 && spec.substr(spec.size() - 5) == ".json");
}

}  // namespace

bool is_first_rank() {
  for (const char* v : {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"})
    if (const char* s = std::getenv(v)) return std::atoi(s) == 0;
  return true;
}

int planned_gpus(const RunArgs& a) {
  if (a.gpus > 0) return a.gpus;
  if (launched_by_mpi()) return mpi_world_from_env();
  return visible_gpus();
}

GpuJob make_job(const RunArgs& in) {
  RunArgs a = in;
  GpuJob job;
  ModelConfig model = model_preset(a.model);
  if (!a.scenario.empty()) {
    // A scenario compares what the simulator can model; the GPU runs the part it can execute
    // (standard and occult, a placement it can build here) and says what it left out.
    const Scenario sc = ScenarioDoc::load(a.scenario).resolve();
    if (!a.set_model) model = sc.model;
    if (!a.set_tokens) a.tokens = sc.tokens_per_device;
    if (!a.set_gpus) a.gpus = sc.devices;
    if (!a.set_seed) a.seed = sc.seed;
    if (!a.set_train) a.train = sc.mode == Mode::Train;
    if (a.trace.empty()) a.trace = sc.trace_path;
    if (!a.set_strategies) {
      a.strategies.clear();
      for (const auto& s : sc.strategies) {
        if (gpu_runs_strategy(s.name())) {
          a.strategies.push_back(s.name());
        } else {
          job.notes.push_back("strategy " + s.name() + " of the scenario is simulator-only; skipped");
        }
      }
      if (a.strategies.empty())
        throw InputError(a.scenario, 0, "strategies",
                         "none of the scenario's strategies runs on the GPU (standard, occult); give "
                         "--strategies");
    }
    if (!a.set_placement && !sc.placements.empty()) {
      const auto it = std::find_if(sc.placements.begin(), sc.placements.end(), gpu_runs_placement);
      if (it == sc.placements.end())
        throw InputError(a.scenario, 0, "placements",
                         "none of the scenario's placements is contiguous, round-robin or a placement "
                         ".json; give --placement (make one with `occult place`)");
      a.placement = *it;
      if (sc.placements.size() > 1)
        job.notes.push_back("runs placement " + a.placement + " (the scenario lists " +
                            std::to_string(sc.placements.size()) + "; --placement picks another)");
    }
    if (a.trace.empty()) {
      a.skew = sc.synthetic.skew;
      a.affinity = sc.synthetic.affinity;
    }
    if (!a.set_gpus && !launched_by_mpi() && visible_gpus() > 0 && sc.devices > visible_gpus())
      throw InputError(a.scenario, 0, "devices",
                       "the scenario is for " + std::to_string(sc.devices) + " GPUs, " +
                           std::to_string(visible_gpus()) + " are visible; --gpus " +
                           std::to_string(visible_gpus()) +
                           " runs its model and tokens per GPU on these (or launch with mpirun)");
  }
  const int D = planned_gpus(a);
  if (D < 1) throw InputError("", 0, "gpus", "no GPU to run on (none visible and --gpus not given)");
  if (model.experts % D != 0)
    throw InputError(
        "", 0, "gpus",
        std::to_string(model.experts) + " experts do not divide over " + std::to_string(D) + " GPUs");
  if (a.tokens < 1) throw InputError("", 0, "tokens", "must be at least 1 token per GPU");
  if (a.max_tokens > 0 && a.tokens > a.max_tokens)
    throw InputError("", 0, "tokens",
                     std::to_string(a.tokens) + " tokens per GPU do not fit buffers of " +
                         std::to_string(a.max_tokens) +
                         " tokens (--max-tokens); raise the capacity or lower --tokens");
  for (const auto& name : a.strategies) {
    if (!gpu_runs_strategy(name))
      throw InputError("", 0, "strategy",
                       "the GPU backend runs 'standard' and 'occult' (got '" + name + "')");
    job.strategies.push_back(parse_strategy(name).base);
  }
  if (job.strategies.empty()) throw InputError("", 0, "strategy", "give at least one strategy");

  const std::int64_t T = a.tokens * D;
  if (!a.trace.empty()) {
    Trace t = read_trace(a.trace);
    if (t.num_experts != model.experts || t.top_k != model.top_k)
      throw InputError(a.trace, 0, "experts",
                       "the trace has E=" + std::to_string(t.num_experts) + ", k=" + std::to_string(t.top_k) +
                           "; the model " + model.name + " has E=" + std::to_string(model.experts) +
                           ", k=" + std::to_string(model.top_k));
    if (a.layer < 0 || std::size_t(a.layer) >= t.layers.size())
      throw InputError(a.trace, 0, "layer", "the trace has " + std::to_string(t.layers.size()) + " layers");
    job.routing = std::move(t.layers[std::size_t(a.layer)]);
    if (job.routing.tokens() < T)
      throw InputError(a.trace, 0, "tokens",
                       "the layer has " + std::to_string(job.routing.tokens()) + " tokens, the run needs " +
                           std::to_string(T) + " (" + std::to_string(a.tokens) + " per GPU)");
    job.routing.experts.resize(std::size_t(T * model.top_k));
    if (!job.routing.weights.empty()) job.routing.weights.resize(std::size_t(T * model.top_k));
  } else {
    TraceGenParams gp;
    gp.experts = model.experts;
    gp.top_k = model.top_k;
    gp.tokens = T;
    gp.skew = a.skew;
    gp.affinity = a.affinity;
    gp.seed = a.seed;
    validate_gen_params(gp);
    job.routing = generate_layer(gp, 0);
  }
  job.placement = load_placement(a.placement, model.experts, {D, D});
  job.layer.model = model;
  job.layer.seed = a.seed;
  job.layer.training = a.train;
  job.layer.comm_only = a.comm_only;
  job.layer.max_tokens = a.max_tokens;
  if (a.counts != "fused" && a.counts != "sync")
    throw InputError("", 0, "counts", "'" + a.counts + "' is not a count exchange (fused, sync)");
  job.layer.counts_sync = a.counts == "sync";
  job.layer.transport = parse_transport(a.transport);
  job.layer.p2p.copy = parse_p2p_copy(a.p2p_copy);
  if (a.p2p_blocks < 0) throw InputError("", 0, "p2p-blocks", "must be 0 (one per SM) or a block count");
  job.layer.p2p.blocks = a.p2p_blocks;
  job.gpus = D;
  job.plain = !a.no_plain;
  if (a.iters < 1 || a.warmup < 0) throw InputError("", 0, "iters", "needs --iters >= 1 and --warmup >= 0");
  if (a.check_tokens < 0) throw InputError("", 0, "check-tokens", "must be >= 0");
  if (a.timeout_s <= 0) throw InputError("", 0, "timeout", "must be positive seconds");
  job.iters = a.iters;
  job.warmup = a.warmup;
  job.check_tokens = a.check_tokens;
  job.timeout_s = a.timeout_s;
  return job;
}

}  // namespace occult::gpu
