#pragma once
// One function per subcommand; each lives in its own cmd_*.cpp and registers itself on the app.
#include <CLI/CLI.hpp>

namespace occult::cli {

void add_trace_command(CLI::App& app);    // cmd_trace.cpp: trace import | gen | stats
void add_analyze_command(CLI::App& app);  // cmd_analyze.cpp

#ifdef OCCULT_WITH_HOST_TOOLS
void add_place_command(CLI::App& app);     // host/cmd_place.cpp
void add_simulate_command(CLI::App& app);  // host/cmd_simulate.cpp
void add_sweep_command(CLI::App& app);     // host/cmd_sweep.cpp
void add_report_command(CLI::App& app);    // host/cmd_report.cpp
void add_validate_command(CLI::App& app);  // host/cmd_validate.cpp
#endif

#ifdef OCCULT_WITH_CUDA
void add_gpu_commands(CLI::App& app);  // backend/cli: calibrate, validate, gpu run
#endif

}  // namespace occult::cli
