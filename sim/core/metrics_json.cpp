#include "sim/core/metrics.hpp"

namespace occult {

nlohmann::json byte_summary_to_json(const ByteSummary& b) {
  return {{"total", b.total},
          {"intra_node", b.intra_node},
          {"inter_node", b.inter_node},
          {"max_send", b.max_send},
          {"max_recv", b.max_recv},
          {"max_send_intra_node", b.max_send_intra},
          {"max_recv_intra_node", b.max_recv_intra},
          {"max_send_inter_node", b.max_send_inter},
          {"max_recv_inter_node", b.max_recv_inter}};
}

nlohmann::json layer_metrics_to_json(const LayerMetrics& m) {
  nlohmann::json j;
  if (m.layer >= 0) j["layer"] = m.layer;
  j["tokens"] = m.tokens;
  j["pairs"] = m.pairs;
  j["ct_standard"] = m.ct_standard;
  j["ct_occult"] = m.ct_occult;
  j["ct_node"] = m.ct_node;
  j["remote_ct_standard"] = m.remote_ct_standard;
  j["remote_ct_occult"] = m.remote_ct_occult;
  j["remote_ct_node"] = m.remote_ct_node;
  j["intra_ratio"] = m.intra_ratio;
  j["load_imbalance"] = m.load_imbalance;
  j["tokens_per_device"] = m.pairs_per_device;  // the key predates the field's name
  j["bytes"] = {{"standard", byte_summary_to_json(m.bytes_standard)},
                {"occult", byte_summary_to_json(m.bytes_occult)},
                {"hierarchical", byte_summary_to_json(m.bytes_hierarchical)}};
  return j;
}

}  // namespace occult
