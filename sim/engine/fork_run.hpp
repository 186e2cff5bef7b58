#pragma once
// Runs a function in a forked child process and returns what it returned. SimGrid's engine is a
// process-wide singleton that cannot be restarted, so every simulation gets a fresh process; this also
// lets callers run simulations from several threads at once. An InputError thrown in the child is
// rethrown in the parent as an InputError; any other failure (exception or crash) as std::runtime_error.
#include <functional>
#include <string>

namespace occult {

std::string run_in_child(const std::function<std::string()>& fn);

}  // namespace occult
