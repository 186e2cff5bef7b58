#include "sim/core/results_columns.hpp"

namespace occult {

const std::vector<std::string>& results_csv_columns() {
  static const std::vector<std::string> kColumns = {"run_id",
                                                    "scenario",
                                                    "model",
                                                    "mode",
                                                    "topology",
                                                    "devices",
                                                    "gpus_per_node",
                                                    "nodes",
                                                    "tokens_per_device",
                                                    "strategy",
                                                    "placement",
                                                    "overlap",
                                                    "t_total_s",
                                                    "t_layout_s",
                                                    "t_dispatch_s",
                                                    "t_expert_s",
                                                    "t_combine_s",
                                                    "t_unpack_s",
                                                    "t_bwd_s",
                                                    "comm_fraction",
                                                    "bytes_remote",
                                                    "bytes_inter_node",
                                                    "bytes_intra_node",
                                                    "ct_standard",
                                                    "ct_occult",
                                                    "ct_node",
                                                    "intra_ratio",
                                                    "speedup_vs_standard",
                                                    "profile",
                                                    "sim_wall_s"};
  return kColumns;
}

}  // namespace occult
