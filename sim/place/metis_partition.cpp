#include "sim/place/metis_partition.hpp"

#include <metis.h>

#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>

namespace occult::place {

std::vector<int> metis_partition(const CsrGraph& graph, const MetisRequest& request) {
  const int V = request.vertices;
  if (request.parts <= 1) return std::vector<int>(std::size_t(V), 0);
  if (request.parts >= V) {  // one vertex per part at most: nothing to optimise, and METIS would refuse
    std::vector<int> part(static_cast<std::size_t>(V));
    for (int v = 0; v < V; ++v) part[std::size_t(v)] = v % request.parts;
    return part;
  }
  // Extra isolated vertices extend the CSR with empty rows.
  std::vector<idx_t> xadj(graph.xadj.begin(), graph.xadj.end());
  while (int(xadj.size()) < V + 1) xadj.push_back(xadj.back());
  std::vector<idx_t> adjncy(graph.adjncy.begin(), graph.adjncy.end());
  std::vector<idx_t> adjwgt(graph.adjwgt.begin(), graph.adjwgt.end());
  idx_t nvtxs = V, nparts = request.parts;
  const bool with_load = !request.load.empty() && request.load_tolerance > 0;
  idx_t ncon = with_load ? 2 : 1;
  std::vector<idx_t> vwgt;
  std::vector<real_t> ubvec = {real_t(1.03)};
  if (with_load) {
    // idx_t is 32-bit: scale loads so their sum fits.
    std::int64_t sum = 0;
    for (auto l : request.load) sum += l;
    const double scale = sum > (1 << 30) ? double(1 << 30) / double(sum) : 1.0;
    for (int v = 0; v < V; ++v) {
      vwgt.push_back(1);
      vwgt.push_back(idx_t(double(v < int(request.load.size()) ? request.load[std::size_t(v)] : 0) * scale));
    }
    ubvec.push_back(real_t(request.load_tolerance));
  }
  idx_t options[METIS_NOPTIONS];
  METIS_SetDefaultOptions(options);
  options[METIS_OPTION_SEED] = idx_t(request.seed % std::uint64_t(std::numeric_limits<idx_t>::max()));
  options[METIS_OPTION_NUMBERING] = 0;
  options[METIS_OPTION_OBJTYPE] = METIS_OBJTYPE_CUT;
  idx_t objval = 0;
  std::vector<idx_t> part(std::size_t(V), 0);
  // METIS keeps its random-number state in a process-wide global that each call reseeds from
  // options[SEED]; concurrent calls (occult place --jobs) would interleave that state and make the
  // partition depend on thread timing. One call at a time keeps results identical for any --jobs.
  static std::mutex metis_mutex;
  std::unique_lock<std::mutex> metis_lock(metis_mutex);
  // Recursive bisection: on these small dense graphs (hundreds of vertices, tens of parts) it is several
  // times faster than the k-way scheme and its partitions need fewer refinement swaps afterwards.
  auto* partitioner = request.recursive ? METIS_PartGraphRecursive : METIS_PartGraphKway;
  const int rc =
      partitioner(&nvtxs, &ncon, xadj.data(), adjncy.empty() ? nullptr : adjncy.data(),
                  with_load ? vwgt.data() : nullptr, nullptr, adjwgt.empty() ? nullptr : adjwgt.data(),
                  &nparts, nullptr, ubvec.data(), options, &objval, part.data());
  metis_lock.unlock();
  if (rc != METIS_OK) {
    // Multi-constraint partitioning can fail on skewed loads ("Failed during initial partitioning"):
    // fall back to the count-balanced partition; the load repair that follows enforces the bound.
    if (with_load) {
      MetisRequest plain = request;
      plain.load.clear();
      return metis_partition(graph, plain);
    }
    throw std::runtime_error("METIS_PartGraphKway failed with code " + std::to_string(rc));
  }
  return {part.begin(), part.end()};
}

void repair_sizes(std::vector<int>& part, int parts, int capacity, const std::vector<std::int64_t>& weights) {
  const std::size_t V = part.size();
  std::vector<int> size(std::size_t(parts), 0);
  for (int p : part) ++size[std::size_t(p)];
  // link[v][p]: co-activation weight between v and the members of part p.
  std::vector<std::int64_t> link(V * std::size_t(parts), 0);
  for (std::size_t v = 0; v < V; ++v)
    for (std::size_t u = 0; u < V; ++u)
      link[v * std::size_t(parts) + std::size_t(part[u])] += weights[v * V + u];
  for (;;) {
    std::int64_t best_gain = std::numeric_limits<std::int64_t>::min();
    std::size_t best_v = V;
    int best_to = -1;
    for (std::size_t v = 0; v < V; ++v) {
      const int from = part[v];
      if (size[std::size_t(from)] <= capacity) continue;
      for (int to = 0; to < parts; ++to) {
        if (size[std::size_t(to)] >= capacity) continue;
        const std::int64_t gain =
            link[v * std::size_t(parts) + std::size_t(to)] - link[v * std::size_t(parts) + std::size_t(from)];
        if (gain > best_gain) {
          best_gain = gain;
          best_v = v;
          best_to = to;
        }
      }
    }
    if (best_v == V) return;  // every part is at capacity
    const int from = part[best_v];
    for (std::size_t u = 0; u < V; ++u) {
      link[u * std::size_t(parts) + std::size_t(from)] -= weights[u * V + best_v];
      link[u * std::size_t(parts) + std::size_t(best_to)] += weights[u * V + best_v];
    }
    part[best_v] = best_to;
    --size[std::size_t(from)];
    ++size[std::size_t(best_to)];
  }
}

}  // namespace occult::place
