#pragma once
// The work measure of each memory-bound kernel of the layer: the x at which the calibration profile
// stores its measured time (calibration.hpp, "kernels") and at which the cost model reads it back.
// One definition for both sides, so that a curve measured by `occult calibrate` is read at the same
// scale by the simulator whatever the bytes really moved are (L2 hits, reads the kernel avoids).
#include <cstdint>

namespace occult::kernel_work {

// compute_layout: one thread per source token walks its choices; measured, its time follows the tokens
// and hardly the choices (Mixtral's top-2 and OLMoE's top-8 cost the same per token on an H100).
inline double layout(std::int64_t tokens) { return double(tokens); }
// pack_rows: the send rows written, with their metadata (expert id and gate weight per slot).
inline double pack(std::int64_t rows, std::int64_t row_bytes, int slots) {
  return double(rows) * (double(row_bytes) + 8.0 * slots);
}
// unpack_reduce: the returned rows read and one output row per token written.
inline double unpack(std::int64_t rows, std::int64_t tokens, std::int64_t row_bytes) {
  return double(rows + tokens) * double(row_bytes);
}
// pack_rows_only (the output gradient's dispatch): token rows read, send rows written.
inline double grad_pack(std::int64_t rows, std::int64_t tokens, std::int64_t row_bytes) {
  return double(rows + tokens) * double(row_bytes);
}
// unpack_weight_grad: one gate-weight gradient per (token, choice).
inline double weight_grad(std::int64_t tokens, int top_k) { return double(tokens) * top_k; }
// A device-to-device copy of the rows that stay on their device (an exchange's own block).
inline double copy(double bytes) { return bytes; }

}  // namespace occult::kernel_work
