// The GPU subcommands of `occult` (built when CUDA is found): gpu-run and calibrate.
#include <functional>
#include <iostream>

#include "backend/calibrate.hpp"
#include "backend/communicator.hpp"
#include "backend/gpu_error.hpp"
#include "backend/gpu_report.hpp"
#include "backend/job_setup.hpp"
#include "backend/provenance.hpp"
#include "sim/cli/commands.hpp"
#include "sim/core/calibration.hpp"
#include "sim/core/model.hpp"

namespace occult::cli {
namespace {

// GPU runtime failures (CUDA, NCCL, out of memory, a timed-out peer) are not bugs of occult: say what
// failed, without main's "internal error", and exit 1. Bad input still leaves as InputError (exit 2).
template <class F>
std::function<void()> reporting_gpu_errors(const char* command, F body) {
  return [command, body] {
    try {
      body();
    } catch (const gpu::GpuError& e) {
      std::cerr << "occult: " << command << ": " << e.what() << "\n";
      std::exit(1);
    }
  };
}

std::string preset_list() {
  std::string s;
  for (const auto& n : model_preset_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

void add_gpu_run(CLI::App& app) {
  auto a = std::make_shared<gpu::RunArgs>();
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand(
      "gpu-run",
      "Run one MoE layer on the local GPUs (CUDA + NCCL), check it and time it.\n"
      "Executes the plan the simulator runs (build_plan): layout, pack, dispatch all-to-all-v (the\n"
      "GPU's row counts checked against the plan, see --counts), sparse expert FFN, combine,\n"
      "unpack-reduce; with --train also the backward pass. Each strategy is checked against the fp32 CPU "
      "reference on sample tokens and\n"
      "against the other strategy, then timed per phase (median of --iters, slowest rank). A plain NCCL\n"
      "all-to-all of the standard payload is timed alongside. One process per GPU under mpirun (the\n"
      "design, any number of nodes), or one process with a thread per GPU when started without mpirun.\n"
      "The NCCL path follows the environment: NVLink by default, host-staged with NCCL_P2P_DISABLE=1,\n"
      "sockets with NCCL_P2P_DISABLE=1 NCCL_SHM_DISABLE=1; --transport p2p bypasses NCCL (one node).\n"
      "Example: occult gpu-run --model olmoe-1b-7b --tokens 4096 --train\n"
      "         occult gpu-run scenarios/default.toml --gpus 2 --tokens 1024\n"
      "         mpirun -np 2 occult gpu-run --model deepseek-v3 --tokens 128 --comm-only --json\n"
      "         mpirun -np 2 occult gpu-run --model deepseek-v3 --tokens 128 --comm-only --transport p2p");
  cmd->add_option(
      "scenario", a->scenario,
      "Scenario file (scenarios/*.toml): model, tokens per device, devices, strategies, placement, "
      "routing; flags given here override it");
  cmd->add_option("--model", a->model, "Model preset (" + preset_list() + ")")
      ->default_val(a->model)
      ->each([a](const std::string&) { a->set_model = true; });
  cmd->add_option("--tokens", a->tokens, "Tokens per GPU in the layer")
      ->default_val(a->tokens)
      ->each([a](const std::string&) { a->set_tokens = true; });
  cmd->add_option("--gpus", a->gpus,
                  "GPUs (ranks) the plan is for; default: the mpirun world, else every visible GPU. A count "
                  "that the launch cannot provide is an error")
      ->each([a](const std::string&) { a->set_gpus = true; });
  cmd->add_option("--strategies", a->strategies, "Strategies to run: standard, occult (comma-separated)")
      ->delimiter(',')
      ->default_str("standard,occult")
      ->each([a](const std::string&) { a->set_strategies = true; });
  cmd->add_option("--placement", a->placement, "contiguous, round-robin, or a placement .json (occult place)")
      ->default_val(a->placement)
      ->each([a](const std::string&) { a->set_placement = true; });
  cmd->add_option("--trace", a->trace, "Routing trace (occult trace import/gen); default: synthetic routing");
  cmd->add_option("--layer", a->layer, "Layer of the trace to run")->default_val(a->layer);
  cmd->add_option("--skew", a->skew, "Synthetic routing: Zipf exponent of expert popularity")
      ->default_val(a->skew)
      ->each([a](const std::string&) { a->set_skew = true; });
  cmd->add_option("--affinity", a->affinity, "Synthetic routing: co-activation affinity in [0, 1]")
      ->default_val(a->affinity)
      ->each([a](const std::string&) { a->set_affinity = true; });
  cmd->add_option("--seed", a->seed,
                  "Seed of routing, inputs and weights (results are deterministic under it)")
      ->default_val(a->seed)
      ->each([a](const std::string&) { a->set_seed = true; });
  cmd->add_flag("--train", a->train, "Also run the backward pass (training)")->each([a](const std::string&) {
    a->set_train = true;
  });
  cmd->add_flag("--comm-only", a->comm_only,
                "Dispatch and combine only (no expert FFN): the communication benchmark; the check is then "
                "exact (each token gets back the sum of its distinct rows)");
  cmd->add_flag("--no-plain", a->no_plain, "Skip the plain NCCL all-to-all of the standard payload");
  cmd->add_option("--iters", a->iters, "Timed iterations (median reported)")->default_val(a->iters);
  cmd->add_option("--warmup", a->warmup, "Untimed iterations first")->default_val(a->warmup);
  cmd->add_option("--check-tokens", a->check_tokens,
                  "Sample tokens per GPU checked against the CPU reference")
      ->default_val(a->check_tokens);
  cmd->add_option("--max-tokens", a->max_tokens,
                  "Buffer capacity in tokens per GPU (0: fit the run); more tokens than this is an error")
      ->default_val(a->max_tokens);
  cmd->add_option("--timeout", a->timeout_s, "Seconds before a stuck NCCL operation is aborted")
      ->default_val(a->timeout_s);
  auto mode = std::make_shared<std::string>("blocking");
  cmd->add_option("--nccl-mode", *mode,
                  "blocking: PyTorch's mode, the lowest small-message latency; GPU waits past --timeout "
                  "abort, a host-blocking NCCL call past it ends the process with a message. "
                  "nonblocking: every NCCL call abortable, at tens of us of host time per exchange")
      ->default_val(*mode);
  cmd->add_option("--counts", a->counts,
                  "How receivers learn their row counts. fused: NCCL is sized from the host-side plan and "
                  "the GPU's counts travel with the dispatch, checked afterwards; sync: a count all-to-all "
                  "read back by the host before the pack (what a runtime without a host-side plan pays)")
      ->default_val(a->counts);
  cmd->add_option("--transport", a->transport,
                  "How the all-to-alls move. nccl: grouped ncclSend/ncclRecv (any topology, across nodes; "
                  "the plain all-to-all row is always NCCL). p2p: direct intranode path, each rank writes "
                  "its blocks straight into the peers' mapped receive buffers and signals them (every GPU "
                  "on one node and peer-reachable, else exit 2)")
      ->default_val(a->transport);
  cmd->add_option("--p2p-copy", a->p2p_copy,
                  "p2p only: sm (one kernel copies with 16-byte SM stores, then signals) or ce (copy "
                  "engines via cudaMemcpyAsync, then a signalling kernel)")
      ->default_val(a->p2p_copy);
  cmd->add_option(
         "--p2p-blocks", a->p2p_blocks,
         "p2p only: thread blocks of the copy kernel (0: one per SM); each block copies 32 KiB chunks")
      ->default_val(a->p2p_blocks);
  cmd->add_flag("--json", *json, "Print one JSON document on stdout");
  cmd->callback(reporting_gpu_errors("gpu-run", [a, json, mode] {
    gpu::set_nccl_mode(gpu::parse_nccl_mode(*mode));
    const gpu::GpuJob job = gpu::make_job(*a);
    if (gpu::is_first_rank())
      for (const auto& note : job.notes) std::cerr << "occult: gpu-run: " << note << "\n";
    const std::string path = gpu::link_class_from_env();
    const gpu::JobResult r = gpu::run_job(job);
    if (r.rank != 0) {  // every rank holds the reduced result; one prints it
      if (!gpu::job_passed(r)) std::exit(1);
      return;
    }
    if (*json) {
      std::cout << gpu::job_to_json(job, r, path).dump(2) << "\n";
    } else {
      gpu::print_job(std::cout, job, r, path);
    }
    std::cout.flush();
    if (!gpu::job_passed(r)) {
      std::cerr << "occult: gpu-run: check FAILED (outputs outside tolerance " << gpu::kTolerance
                << " or unwritten elements)\n";
      std::exit(1);
    }
  }));
}

void add_calibrate(CLI::App& app) {
  auto o = std::make_shared<gpu::CalibrateOptions>();
  auto out = std::make_shared<std::string>();
  auto link_only = std::make_shared<bool>(false);
  auto json = std::make_shared<bool>(false);
  auto links_from = std::make_shared<std::string>();
  auto nominal = std::make_shared<std::vector<std::string>>();
  auto* cmd = app.add_subcommand(
      "calibrate",
      "Measure the local GPUs into a calibration profile for the simulator (docs/calibration.md).\n"
      "Microbenchmarks only (never layer runs):\n"
      "- compute, on GPU 0: the sparse expert FFN forward and backward over model widths (--models) x\n"
      "  local experts (1, 4, 16, 64, 256, capped at E, and E) x rows per expert (1 to 16384) x slot\n"
      "  layouts (standard; occult with 1 to k pairs per row), and the dense cuBLAS ceiling;\n"
      "- kernels, on GPU 0: layout, pack, unpack, gradient pack, gate-gradient unpack and the own-block\n"
      "  device copy, from 64 to 262144 tokens (copies 4 KiB to 4 GiB);\n"
      "- links, with two GPUs or more: the NCCL all-to-all-v time against message size (4 KiB to 1 GiB\n"
      "  per peer) on each path, one child process per path because NCCL reads its environment once:\n"
      "  nvlink (default), pcie (NCCL_P2P_DISABLE=1, host-staged), network (NCCL_P2P_DISABLE=1\n"
      "  NCCL_SHM_DISABLE=1, sockets); plus the cost of each further message per peer in one exchange.\n"
      "  Each path needs its nominal bandwidth (--nominal, the figure its topology file states): the\n"
      "  efficiency against it is what carries over to machines that were never calibrated.\n"
      "Provenance (GPU and its UUID, count, driver, CUDA, NCCL, date, command, host, commit) per section.\n"
      "Examples: occult calibrate -o h100.json                       (one GPU: compute and kernels)\n"
      "          occult calibrate --nominal nvlink=450,pcie=64,network=2.3 --p2p -o box.json\n"
      "          occult calibrate --compute-only --links-from calibration/h200.json -o mine.json");
  cmd->add_option("-o,--output", *out, "Profile to write (JSON)");
  cmd->add_option("--paths", o->paths,
                  "Link classes to measure with two GPUs or more: nvlink, pcie, network (comma-separated; "
                  "'none' for no links)")
      ->delimiter(',')
      ->default_str("nvlink,pcie,network");
  cmd->add_option("--nominal", *nominal,
                  "Nominal bandwidth per direction of each measured path, CLASS=GB/s (comma-separated), "
                  "as the machine's topology file states it, e.g. nvlink=450,pcie=64,network=2.3")
      ->delimiter(',');
  cmd->add_flag("--p2p", o->p2p, "Also measure the direct P2P transport on the nvlink path");
  cmd->add_option("--links-from", *links_from,
                  "Take the links of this profile (another machine's: links need two GPUs) into the output");
  cmd->add_flag("--compute-only", o->compute_only, "Measure compute and kernels only, no links");
  cmd->add_option("--models", o->models, "Model presets whose widths the expert FFN grid covers")
      ->delimiter(',')
      ->default_str("olmoe-1b-7b,qwen1.5-moe-a2.7b,deepseek-v3,mixtral-8x7b");
  cmd->add_option("--max-pairs", o->max_pairs, "Largest expert FFN call measured, in (token, expert) pairs")
      ->default_val(o->max_pairs);
  cmd->add_option("--gpus", o->gpus, "GPUs for the link measurements (default: every visible GPU)");
  cmd->add_flag("--quick", o->quick, "Fewer sizes and shapes (smoke test, not for shipped profiles)");
  cmd->add_option("--iters", o->iters, "Timed repeats per point (median; raised for short calls)")
      ->default_val(o->iters);
  cmd->add_option("--timeout", o->timeout_s, "Seconds before a stuck NCCL operation is aborted")
      ->default_val(o->timeout_s);
  cmd->add_option("--nccl-mode", o->nccl_mode,
                  "NCCL communicator mode of the link measurements (blocking: as PyTorch and gpu-run's "
                  "default; nonblocking)")
      ->default_val(o->nccl_mode);
  cmd->add_option("--transport", o->transport, "Transport of a --link-only child (nccl, p2p)")
      ->default_val(o->transport)
      ->group("");  // internal
  cmd->add_flag("--json", *json, "Print the profile on stdout as well");
  cmd->add_flag("--link-only", *link_only,
                "Measure only the path this process's NCCL environment selects and print {\"links\": [...]} "
                "(what calibrate's per-path children run)")
      ->group("");  // internal
  cmd->callback(reporting_gpu_errors("calibrate", [o, out, link_only, json, links_from, nominal] {
    if (o->iters < 1) throw InputError("", 0, "iters", "must be at least 1");
    if (o->max_pairs < 1) throw InputError("", 0, "max-pairs", "must be at least 1");
    gpu::set_nccl_mode(gpu::parse_nccl_mode(o->nccl_mode));
    (void)gpu::parse_transport(o->transport);
    if (*link_only) {
      std::cout << gpu::links_to_json({gpu::measure_link(*o)}).dump(2) << "\n";
      return;
    }
    if (out->empty()) throw InputError("", 0, "output", "give the profile to write with -o FILE");
    if (o->paths == std::vector<std::string>{"none"}) o->paths.clear();
    for (const auto& p : o->paths) (void)gpu::nccl_env_for(p);  // reject unknown classes before measuring
    for (const auto& n : *nominal) {
      const auto eq = n.find('=');
      double v = 0;
      try {
        v = eq == std::string::npos ? 0.0 : std::stod(n.substr(eq + 1));
      } catch (const std::exception&) {
        v = 0;
      }
      if (eq == std::string::npos || !(v > 0))
        throw InputError("", 0, "nominal", "'" + n + "' is not CLASS=GB/s with a positive bandwidth");
      (void)gpu::nccl_env_for(n.substr(0, eq));
      o->nominal_GBps[n.substr(0, eq)] = v;
    }
    for (const auto& m : o->models) (void)model_preset(m);
    const bool want_links = !o->compute_only && gpu::visible_gpus() >= 2;
    if (want_links)
      for (const auto& p : o->paths)
        if (!o->nominal_GBps.count(p))
          throw InputError("", 0, "nominal",
                           "no nominal bandwidth for path " + p +
                               " (give --nominal " + p + "=GB/s, the figure of the machine's topology file)");
    if (o->p2p && want_links && !o->nominal_GBps.count("nvlink"))
      throw InputError("", 0, "nominal", "--p2p needs --nominal nvlink=GB/s");
    const CalibrationProfile from = links_from->empty() ? CalibrationProfile{} : read_calibration(*links_from);
    CalibrationProfile prof = gpu::calibrate(*o);
    for (const auto& l : from.links)
      if (!prof.link(l.link_class, l.transport, l.nccl_mode)) prof.links.push_back(l);
    write_calibration(prof, *out);
    if (*json) std::cout << calibration_to_json(prof).dump(2) << "\n";
    std::cerr << "calibrate: wrote " << *out << "\n";
  }));
}

}  // namespace

void add_gpu_commands(CLI::App& app) {
  add_gpu_run(app);
  add_calibrate(app);
}

}  // namespace occult::cli
