#pragma once
// The device side of the direct NVLink (peer-to-peer) all-to-all-v: one kernel copies every block
// straight into the receivers' peer-mapped buffers with SM stores, then its last block publishes a
// sequence number to each receiver (release, system scope) and waits for every sender's number
// (acquire, system scope), bounded by a deadline and an abort word the host can set.
#include <cuda_runtime.h>

#include <cstdint>

namespace occult::gpu::p2p {

// One contiguous block from this rank's memory to a receiver's (mapped) memory.
struct Segment {
  const void* src = nullptr;
  void* dst = nullptr;
  std::uint64_t bytes = 0;
  std::uint64_t first_chunk = 0;  // index of its first chunk in the kernel's flattened work list
};

// Bytes one block copies per step (512 threads x 4 16-byte vectors in flight each).
inline constexpr std::uint64_t kChunkBytes = 32 * 1024;

// Where the exchange's completion is published and awaited. All pointers are device-visible.
struct Signals {
  unsigned long long* const* peer_flag = nullptr;  // [peers] receiver q's flag slot for this sender
  const unsigned long long* my_flags = nullptr;    // [peers] this rank's slots, one per sender
  unsigned int* blocks_done = nullptr;             // zero between launches
  int* error = nullptr;                            // host-mapped: 0, or 1 + the sender that never came
  const int* abort = nullptr;                      // host-mapped: nonzero ends every wait at once
  int peers = 0;
};

// Copies the segments (chunks in total; `blocks` thread blocks, 0 = one per chunk up to the SM
// count), then publishes `seq` and waits for every sender's `seq` for at most `timeout_ns`. With
// segments == nullptr only the signal and wait run (the copy-engine variant copies before it).
void launch_exchange(const Segment* segments, int count, std::uint64_t chunks, const Signals& sig,
                     unsigned long long seq, unsigned long long timeout_ns, int blocks, cudaStream_t stream);

}  // namespace occult::gpu::p2p
