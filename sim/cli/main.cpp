// occult: expert-parallel MoE communication toolkit (Occult, ICML 2025).
#include <cstdio>
#include <exception>
#include <iostream>

#include "sim/cli/commands.hpp"
#include "sim/core/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "occult: simulate, measure and report MoE expert-parallel communication.\n"
      "Dedup dispatch/combine (one token copy per destination device), co-activation-aware\n"
      "expert placement, collaboration pruning; SimGrid cluster simulator and CUDA/NCCL backend.\n"
      "Start with README.md; every subcommand has --help.",
      "occult"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "occult 0.1.0");
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
    app.exit(e);  // prints the message and usage hint to stderr
    return occult::kExitBadInput;
  } catch (const occult::InputError& e) {
    std::cerr << "occult: error: " << e.what() << "\n";
    return occult::kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "occult: internal error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
