#pragma once
// What simulating one layer of a scenario will allocate, estimated from its sizes before anything is
// allocated, so that an absurd cluster or workload is refused with a message (docs/guarantees.md)
// instead of growing until the machine runs out. The constants are fitted to measured peak memory
// (docs/guarantees.md, "Memory"), with a margin; the estimate is meant to be right within a factor of
// about two, which is what telling "fits" from "cannot fit" needs.
#include <cstdint>
#include <string>

#include "sim/core/scenario.hpp"

namespace occult {

struct MemoryEstimate {
  std::uint64_t bytes = 0;
  std::string key;     // the scenario key whose value drives the largest part
  std::string detail;  // what the largest part is, for the message
};

// One job: one placement and one layer, every strategy (what `simulate -j 1` and each forked job hold).
MemoryEstimate estimate_scenario_memory(const Scenario& s);

}  // namespace occult
