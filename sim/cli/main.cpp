// occult: expert-parallel MoE communication toolkit (Occult, ICML 2025).
#include <cstdio>
#include <exception>
#include <iostream>
#include <new>
#include <stdexcept>

#include "sim/cli/commands.hpp"
#include "sim/cli/parse_errors.hpp"
#include "sim/core/error.hpp"
#include "sim/core/memory_budget.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "occult: simulate, measure and report MoE expert-parallel communication.\n"
      "Dedup dispatch/combine (one token copy per destination device), co-activation-aware\n"
      "expert placement, collaboration pruning; SimGrid cluster simulator and CUDA/NCCL backend.\n"
      "Start with README.md; every subcommand has --help. Exit codes: 0 success, 2 bad input (the\n"
      "message says which file, line and field), 1 anything else (docs/guarantees.md).",
      "occult"};
  app.require_subcommand(1);
  app.fallthrough();  // --max-memory may follow the subcommand
  app.set_version_flag("--version", "occult 0.1.0");
  // An option callback runs before the subcommand's, so the limit is set before any work starts.
  app.add_option_function<std::string>(
         "--max-memory",
         [](const std::string& v) { occult::set_memory_limit(occult::parse_size(v, "--max-memory")); },
         "memory a run may use, e.g. 64G (default: the machine's memory, or a lower ulimit -v or\n"
         "cgroup limit). Inputs whose estimated needs exceed it are refused before anything is\n"
         "allocated")
      ->type_name("SIZE");
  occult::cli::add_trace_command(app);
  occult::cli::add_analyze_command(app);
#ifdef OCCULT_WITH_HOST_TOOLS
  occult::cli::add_place_command(app);
  occult::cli::add_simulate_command(app);
  occult::cli::add_sweep_command(app);
  occult::cli::add_report_command(app);
  occult::cli::add_validate_command(app);
#endif
#ifdef OCCULT_WITH_CUDA
  occult::cli::add_gpu_commands(app);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "occult: error: " << occult::cli::describe_parse_error(app, e) << "\n";
    return occult::kExitBadInput;
  } catch (const occult::InputError& e) {
    std::cerr << "occult: error: " << e.what() << "\n";
    return occult::kExitBadInput;
  } catch (const std::bad_alloc&) {
    // The memory estimates refuse absurd sizes up front; an allocation that still fails is an input
    // too large for this machine, not a bug.
    std::cerr
        << "occult: error: out of memory: the input needs more memory than this process could get (limit "
        << occult::format_bytes(occult::memory_limit()) << ", " << occult::memory_limit_source()
        << "); make it smaller\n";
    return occult::kExitBadInput;
  } catch (const std::length_error& e) {
    std::cerr << "occult: error: out of memory: a size in the input is too large (" << e.what() << ")\n";
    return occult::kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "occult: internal error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
