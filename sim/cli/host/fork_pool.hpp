#pragma once
// Runs independent jobs in forked child processes, a few at a time (`occult simulate -j`, `occult
// sweep -j`). Processes rather than threads because SimGrid's engine is a process-wide singleton and
// because a crash in one job must not take the others down.
#include <functional>
#include <string>

namespace occult::cli {

// Runs job(i) for i in [0, n), at most `parallel` at once; `done(i, result)` is called in the parent
// in completion order. With parallel <= 1 the jobs run in this process, in order. An InputError from
// a job is rethrown here as an InputError (after the running children finish); any other failure
// (exception, crash, nonzero exit) as std::runtime_error naming the job.
void run_forked(int n, int parallel, const std::function<std::string(int)>& job,
                const std::function<void(int, const std::string&)>& done);

}  // namespace occult::cli
