#include "backend/job_setup.hpp"

#include <algorithm>
#include <cstdlib>
#include <optional>

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
  Workload w;
  w.model = model_preset(a.model);
  w.placements = {a.placement};
  if (!a.scenario.empty()) {
    // A scenario compares what the simulator can model; the GPU runs the part it can execute
    // (standard and occult, a placement it can build here) and says what it left out.
    const Scenario sc = ScenarioDoc::load(a.scenario).resolve();
    w = sc.workload();
    if (a.set_model) w.model = model_preset(a.model);
    if (!a.set_gpus) a.gpus = sc.devices;
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
    if (!a.set_placement) {
      const auto it = std::find_if(sc.placements.begin(), sc.placements.end(), gpu_runs_placement);
      if (it == sc.placements.end())
        throw InputError(a.scenario, 0, "placements",
                         "none of the scenario's placements is contiguous, round-robin or a placement "
                         ".json; give --placement (make one with `occult place`)");
      if (sc.placements.size() > 1)
        job.notes.push_back("runs placement " + *it + " (the scenario lists " +
                            std::to_string(sc.placements.size()) + "; --placement picks another)");
      w.placements = {*it};
    } else {
      w.placements = {a.placement};
    }
    if (sc.layers > 1) job.notes.push_back("runs the scenario's first layer of " + std::to_string(sc.layers));
    if (!a.set_gpus && !launched_by_mpi() && visible_gpus() > 0 && sc.devices > visible_gpus())
      throw InputError(a.scenario, 0, "devices",
                       "the scenario is for " + std::to_string(sc.devices) + " GPUs, " +
                           std::to_string(visible_gpus()) + " are visible; --gpus " +
                           std::to_string(visible_gpus()) +
                           " runs its model and tokens per GPU on these (or launch with mpirun)");
  }
  if (a.set_tokens || a.scenario.empty()) w.tokens_per_device = a.tokens;
  if (a.set_seed || a.scenario.empty()) w.seed = a.seed;
  if (a.set_train || a.scenario.empty()) w.mode = a.train ? Mode::Train : Mode::Prefill;
  if (a.set_skew || a.scenario.empty()) w.synthetic.skew = a.skew;
  if (a.set_affinity || a.scenario.empty()) w.synthetic.affinity = a.affinity;
  if (!a.trace.empty()) w.trace_path = a.trace;
  w.first_layer = a.layer;
  w.layers = 1;
  const int D = planned_gpus(a);
  if (D < 1) throw InputError("", 0, "gpus", "no GPU to run on (none visible and --gpus not given)");
  // One expert-parallel group over the GPUs of this run.
  w.devices = w.ep_size = w.gpus_per_node = D;
  if (w.model.experts % D != 0)
    throw InputError(
        "", 0, "gpus",
        std::to_string(w.model.experts) + " experts do not divide over " + std::to_string(D) + " GPUs");
  if (w.model.shared_experts > 0) {
    // The GPU layer runs the routed experts only; the record says so, and validate simulates it so.
    job.notes.push_back(std::to_string(w.model.shared_experts) + " shared expert(s) of " + w.model.name +
                        " are not run on the GPU (routed experts only)");
    w.model.shared_experts = 0;
    w.model.shared_ffn = 0;
  }
  if (w.tokens_per_device < 1) throw InputError("", 0, "tokens", "must be at least 1 token per GPU");
  if (a.max_tokens > 0 && w.tokens_per_device > a.max_tokens)
    throw InputError("", 0, "tokens",
                     std::to_string(w.tokens_per_device) + " tokens per GPU do not fit buffers of " +
                         std::to_string(a.max_tokens) +
                         " tokens (--max-tokens); raise the capacity or lower --tokens");
  w.strategies.clear();
  for (const auto& name : a.strategies) {
    if (!gpu_runs_strategy(name))
      throw InputError("", 0, "strategy",
                       "the GPU backend runs 'standard' and 'occult' (got '" + name + "')");
    w.strategies.push_back(parse_strategy(name));
    job.strategies.push_back(w.strategies.back().base);
  }
  if (job.strategies.empty()) throw InputError("", 0, "strategy", "give at least one strategy");
  if (!gpu_runs_placement(w.placements[0]))
    throw InputError("", 0, "placement",
                     "'" + w.placements[0] +
                         "' is neither contiguous, round-robin nor a placement .json; make one with "
                         "`occult place ... -o P.json` (the other algorithms need the host tools)");

  std::optional<Trace> trace;
  if (!w.trace_path.empty()) {
    trace = read_trace(w.trace_path);
    w.trace_digest = file_digest(w.trace_path);
    if (trace->num_experts != w.model.experts || trace->top_k != w.model.top_k)
      throw InputError(w.trace_path, 0, "experts",
                       "the trace has E=" + std::to_string(trace->num_experts) +
                           ", k=" + std::to_string(trace->top_k) + "; the model " + w.model.name +
                           " has E=" + std::to_string(w.model.experts) + ", k=" + std::to_string(w.model.top_k));
    if (a.layer < 0 || std::size_t(a.layer) >= trace->layers.size())
      throw InputError(w.trace_path, 0, "layer",
                       "the trace has " + std::to_string(trace->layers.size()) + " layers");
    const std::int64_t T = w.tokens_per_device * D;
    if (trace->layers[std::size_t(a.layer)].tokens() < T)
      throw InputError(w.trace_path, 0, "tokens",
                       "the layer has " + std::to_string(trace->layers[std::size_t(a.layer)].tokens()) +
                           " tokens, the run needs " + std::to_string(T) + " (" +
                           std::to_string(w.tokens_per_device) + " per GPU)");
  } else {
    TraceGenParams gp;
    gp.experts = w.model.experts;
    gp.top_k = w.model.top_k;
    gp.tokens = w.tokens_per_device * D;
    gp.skew = w.synthetic.skew;
    gp.affinity = w.synthetic.affinity;
    gp.groups = w.synthetic.groups;
    gp.seed = w.seed;
    validate_gen_params(gp);
  }
  WorkloadRouting routing;
  workload_routing(w, 0, trace ? &*trace : nullptr, 0, routing);
  job.routing = std::move(routing.sim);
  job.placement = workload_placement(w, w.placements[0], routing.profile, 0, {});
  job.layer.model = w.model;
  job.layer.seed = w.seed;
  job.layer.training = w.mode == Mode::Train;
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
  job.workload = std::move(w);
  return job;
}

}  // namespace occult::gpu
