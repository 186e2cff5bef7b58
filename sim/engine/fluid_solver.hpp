#pragma once
// The fluid model's solver: event-driven processor-sharing classes under max-min sharing, over a
// layer's graph of exchanges and compute (fluid_flows.hpp builds it; docs/simulator.md, "Flow models").
//
// Rates come from progressive filling over the live classes: every active pair's rate rises together;
// the link whose remaining capacity per unfrozen pair is lowest freezes its classes at that rate (it is
// their bottleneck), and so on. With FluidChain::tolerance 0 they are re-solved whenever pairs start or
// end (exact). A solve costs O(live classes), and a large cluster has millions of pair ends, so with a
// tolerance t > 0 they are re-solved only once the pairs that started or ended since the last solve
// reach t of the live pairs. In between, each link shares what it has for the classes it froze (its
// capacity less what the others took at their recorded rates) among their active pairs: when a pair
// ends, the others of its bottleneck speed up at once, so a bottleneck link stays busy (keeping every
// rate until the next solve leaves the ended pairs' bandwidth idle). A class that starts between solves
// joins the link of its route that would give it the least. Pairs of one class progress together, and
// so do the classes of one bottleneck (a virtual clock per link): a pair start or end costs
// O(route length x log), not O(classes).
#include "sim/engine/fluid_flows.hpp"

namespace occult {

// Fills chain.gate, chain.end and the solve counts. Throws std::runtime_error when a device never ends
// a node (a route without bandwidth).
void solve_fluid_chain(FluidChain& chain);

}  // namespace occult
