#include "sim/core/trace_import_collector.hpp"

#include <algorithm>
#include <cmath>

#include "sim/core/error.hpp"

namespace occult::detail {
namespace {
constexpr int kMaxLayer = 1'000'000;
constexpr int kMaxTopK = 1024;
constexpr std::int64_t kMaxExpertId = (1 << 20) - 1;

// Removes the blocks' tokens (block.first counts from token `offset`; blocks in order, disjoint) from a
// row-major [tokens x k] array in one pass, however many blocks there are.
template <class T>
void erase_blocks(std::vector<T>& rows, std::int64_t offset, const std::vector<DegenerateBlock>& blocks,
                  int k) {
  auto out = rows.begin() + std::ptrdiff_t(offset * k);
  auto in = out;
  for (const auto& b : blocks) {
    const auto from = rows.begin() + std::ptrdiff_t((offset + b.first) * k);
    out = std::move(in, from, out);
    in = from + std::ptrdiff_t(b.records * k);
  }
  out = std::move(in, rows.end(), out);
  rows.erase(out, rows.end());
}
}  // namespace

void RoutingCollector::begin_file(const std::string& path) {
  file_ = path;
  segments_.clear();
}

void RoutingCollector::bad(long line, const std::string& field, const std::string& message) {
  if (!opts_.skip_bad) throw InputError(file_, line, field, message);
  if (report_.bad_records++ == 0) report_.first_bad = InputError(file_, line, field, message).what();
}

void RoutingCollector::add(int layer, std::span<const std::int64_t> ids, std::span<const double> weights,
                           long line, const PassMark& mark) {
  if (layer < 0 || layer > kMaxLayer)
    return bad(line, "layer", "must be in [0, " + std::to_string(kMaxLayer) + "]");
  const int want_k = opts_.top_k > 0 ? opts_.top_k : top_k_;
  if (ids.empty() || ids.size() > std::size_t(kMaxTopK))
    return bad(line, "topk_ids", "needs 1 to " + std::to_string(kMaxTopK) + " expert ids");
  if (want_k > 0 && ids.size() != std::size_t(want_k)) {
    ++other_k_records_;
    return bad(line, "topk_ids",
               "has " + std::to_string(ids.size()) + " ids but k is " + std::to_string(want_k) +
                   (opts_.top_k > 0 ? "" : " (from the first record)"));
  }
  const std::int64_t id_limit = opts_.experts > 0 ? opts_.experts : kMaxExpertId + 1;
  for (std::size_t j = 0; j < ids.size(); ++j) {
    const std::string field = "topk_ids[" + std::to_string(j) + "]";
    if (ids[j] < 0) return bad(line, field, "negative expert id " + std::to_string(ids[j]));
    if (ids[j] >= id_limit)
      return bad(line, field,
                 "expert id " + std::to_string(ids[j]) + " >= E = " + std::to_string(id_limit) +
                     (opts_.experts > 0 ? " (from --experts/--model)" : ""));
    for (std::size_t i = 0; i < j; ++i)
      if (ids[i] == ids[j]) return bad(line, field, "expert " + std::to_string(ids[j]) + " listed twice");
  }
  if (!weights.empty()) {
    if (weights.size() != ids.size())
      return bad(
          line, "topk_weights",
          "has " + std::to_string(weights.size()) + " weights for " + std::to_string(ids.size()) + " ids");
    for (std::size_t j = 0; j < weights.size(); ++j)
      if (!std::isfinite(weights[j]) || weights[j] < 0 || weights[j] > 3.4e38)
        return bad(line, "topk_weights[" + std::to_string(j) + "]", "must be a finite number >= 0");
  }
  auto [seg, fresh] = segments_.try_emplace(layer, opts_.degenerate_min_run);
  LayerData& data = layers_[layer];
  if (fresh) {
    seg->second.start_token = std::int64_t(data.experts.size()) / std::max(1, int(ids.size()));
    seg->second.weighted = !weights.empty();
  } else if (seg->second.weighted != !weights.empty()) {
    return bad(line, "topk_weights",
               seg->second.weighted ? "missing, but earlier records of this layer have weights"
                                    : "present, but earlier records of this layer have none");
  }

  // Record accepted.
  if (top_k_ == 0) top_k_ = int(ids.size()), top_k_line_ = line;
  ++report_.records;
  scratch_.assign(ids.begin(), ids.end());
  std::sort(scratch_.begin(), scratch_.end());
  Segment& s = seg->second;
  bool new_pass = false;
  if (mark.pass) {
    new_pass = s.last_pass != mark.pass;
    s.last_pass = mark.pass;
    s.passes_known = true;
  }
  if (mark.token_idx) {
    if (s.last_token_idx && *mark.token_idx <= *s.last_token_idx) new_pass = s.passes_known = true;
    s.last_token_idx = mark.token_idx;
  }
  s.by_pass.add(scratch_, new_pass, line);
  s.by_record.add(scratch_, true, line);
  for (std::size_t j = 0; j < ids.size(); ++j) {
    data.experts.push_back(std::int32_t(ids[j]));
    data.weights.push_back(weights.empty() ? 1.0f / float(ids.size()) : float(weights[j]));
    max_id_ = std::max(max_id_, ids[j]);
  }
  data.any_weights |= !weights.empty();
}

void RoutingCollector::end_file() {
  for (auto& [layer, s] : segments_) {
    const auto blocks = (s.passes_known ? s.by_pass : s.by_record).finish();
    if (blocks.empty()) continue;
    if (!opts_.keep_degenerate) {
      LayerData& data = layers_[layer];
      erase_blocks(data.experts, s.start_token, blocks, top_k_);
      erase_blocks(data.weights, s.start_token, blocks, top_k_);
    }
    for (const auto& b : blocks) {
      if (!opts_.keep_degenerate) report_.degenerate_dropped += b.records;
      report_.drops.push_back({file_, layer, b.records, b.experts, b.first, b.line, b.units, s.passes_known,
                               !opts_.keep_degenerate});
    }
  }
  segments_.clear();
}

Trace RoutingCollector::finish() {
  if (layers_.empty() || top_k_ == 0) {
    std::string why = report_.bad_records > 0 ? " (all " + std::to_string(report_.bad_records) +
                                                    " records were bad; first: " + report_.first_bad + ")"
                                              : "";
    throw InputError(file_, 0, "", "no routing records found" + why);
  }
  // Under --skip-bad, k comes from the first record that was read: when most records disagree with
  // it, that record was the bad one, and keeping it would throw away the good ones.
  if (opts_.top_k == 0 && other_k_records_ > report_.records)
    throw InputError(file_, 0, "topk_ids",
                     "k = " + std::to_string(top_k_) + " was taken from the first record (line " +
                         std::to_string(top_k_line_) + " of its file), but " +
                         std::to_string(other_k_records_) + " records have another number of ids and only " +
                         std::to_string(report_.records) + " have " + std::to_string(top_k_) +
                         ": give k with --top-k (or --model)");
  Trace t;
  t.top_k = top_k_;
  t.model = opts_.model;
  if (opts_.experts > 0) {
    t.num_experts = opts_.experts;
  } else {
    t.num_experts = int(max_id_ + 1);
    report_.experts_inferred = true;
  }
  if (t.top_k > t.num_experts)
    throw InputError(file_, 0, "topk_ids",
                     "k = " + std::to_string(t.top_k) +
                         " exceeds the inferred E = " + std::to_string(t.num_experts) + "; pass --experts");
  for (auto& [layer, data] : layers_) {
    if (data.experts.empty())
      throw InputError(
          file_, 0, "layer " + std::to_string(layer),
          "every record was in a degenerate (dummy) block; nothing left (see --keep-degenerate)");
    LayerRouting l;
    l.layer = layer;
    l.top_k = top_k_;
    l.experts = std::move(data.experts);
    if (data.any_weights) l.weights = std::move(data.weights);
    t.layers.push_back(std::move(l));
  }
  layers_.clear();
  return t;
}

}  // namespace occult::detail
