// The runtime under the layer: thread bootstrap, all-to-all-v byte exactness with uneven counts,
// the NCCL timeout (no hang when a peer never answers), and out-of-memory messages.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "backend/all_to_all.hpp"
#include "backend/communicator.hpp"
#include "backend/device_buffer.hpp"
#include "backend/gpu_error.hpp"
#include "backend/p2p_transport.hpp"
#include "backend/watchdog.hpp"
#include "test_backend_gpu.hpp"

namespace occult::gpu {
namespace {

TEST(ThreadBootstrap, BroadcastAndAllgather) {
  run_on_threads(3, [](Bootstrap& b) {
    int v = b.rank() == 1 ? 42 : -1;
    b.broadcast(&v, sizeof v, 1);
    EXPECT_EQ(v, 42);
    const auto all = b.allgather_value(b.rank() * 10);
    ASSERT_EQ(all.size(), 3u);
    for (int r = 0; r < 3; ++r) EXPECT_EQ(all[std::size_t(r)], r * 10);
  });
}

TEST(ThreadBootstrap, FailingRankReleasesTheOthersAndItsErrorWins) {
  try {
    run_on_threads(4, [](Bootstrap& b) {
      if (b.rank() == 2) throw std::runtime_error("rank 2 broke");
      b.barrier();
    });
    FAIL() << "expected the error of rank 2";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "rank 2 broke");
  }
}

// Both transports (and both P2P copy methods) move exactly the bytes asked for, with uneven and
// odd-sized blocks (the byte path of the P2P kernel), word-aligned ones and a multi-chunk block, and
// the same buffers are reused round after round (the P2P sequence numbers).
struct TransportCase {
  Transport transport;
  P2pCopy copy;
};

class Transports : public testing::TestWithParam<TransportCase> {};

TEST_P(Transports, AllToAllVMovesExactBytesWithUnevenCounts) {
  OCCULT_REQUIRE_GPUS(2);
  run_on_threads(2, [](Bootstrap& b) {
    Communicator comm(b, device_for_rank(b), 30);
    const int r = b.rank();
    for (const std::int64_t unit : {std::int64_t(1), std::int64_t(4), std::int64_t(16 * 1024 + 16)}) {
      // rank r sends ((r + 1) * 1000 + 7 * p) units to peer p, and nothing to itself from rank 0.
      auto bytes = [unit](int src, int dst) {
        return src == 0 && dst == 0 ? 0
                                    : unit * std::int64_t((src + 1) * 1000 + 7 * dst) / (unit > 4 ? 500 : 1);
      };
      std::vector<std::int64_t> out{bytes(r, 0), bytes(r, 1)}, in{bytes(0, r), bytes(1, r)};
      const Exchange xo = Exchange::from_rows(out, 1), xi = Exchange::from_rows(in, 1);
      // Padded: NCCL reads the tail of an odd-sized message in whole words (compute-sanitizer sees it).
      DeviceBuffer<unsigned char> s(xo.total() + 16, "send"), d(xi.total() + 16, "recv");
      AllToAll op(comm, GetParam().transport, {GetParam().copy, 0}, {{s.get(), &xo, d.get(), &xi}});
      for (int round = 0; round < 3; ++round) {
        std::vector<unsigned char> host(xo.total());
        for (std::size_t i = 0; i < host.size(); ++i)
          host[i] = static_cast<unsigned char>(r * 101 + i * 13 + std::size_t(round) * 7);
        OCCULT_CUDA(cudaMemcpy(s.get(), host.data(), host.size(), cudaMemcpyHostToDevice));
        OCCULT_CUDA(cudaMemset(d.get(), 0xA5, d.bytes()));  // poison
        OCCULT_CUDA(cudaDeviceSynchronize());
        b.barrier();  // the peer's poison lands before this rank's data
        op.run();
        comm.wait();
        std::vector<unsigned char> got(xi.total());
        OCCULT_CUDA(cudaMemcpy(got.data(), d.get(), got.size(), cudaMemcpyDeviceToHost));
        for (int p = 0; p < 2; ++p) {
          // Peer p's block for rank r starts at its own offset of dst r in its send buffer.
          const std::size_t their_off = r == 0 ? 0 : std::size_t(bytes(p, 0));
          for (std::size_t i = 0; i < xi.bytes[std::size_t(p)]; ++i)
            ASSERT_EQ(got[xi.offset[std::size_t(p)] + i],
                      static_cast<unsigned char>(p * 101 + (their_off + i) * 13 + std::size_t(round) * 7))
                << "unit " << unit << " round " << round << " from " << p << " byte " << i;
        }
        b.barrier();  // both have read before the next round rewrites
      }
    }
  });
}

INSTANTIATE_TEST_SUITE_P(All, Transports,
                         testing::Values(TransportCase{Transport::Nccl, P2pCopy::Sm},
                                         TransportCase{Transport::P2p, P2pCopy::Sm},
                                         TransportCase{Transport::P2p, P2pCopy::CopyEngine}),
                         [](const testing::TestParamInfo<TransportCase>& i) {
                           return std::string(transport_name(i.param.transport)) +
                                  (i.param.transport == Transport::P2p ? p2p_copy_name(i.param.copy) : "");
                         });

// A P2P sender that never comes: the receiver's kernel gives up at the deadline, wait() names the
// rank and the missing peer, and nothing hangs.
TEST(P2pTransport, MissingPeerTimesOutInsteadOfHanging) {
  OCCULT_REQUIRE_GPUS(2);
  const auto t0 = std::chrono::steady_clock::now();
  std::atomic<bool> reported{false};
  run_on_threads(2, [&](Bootstrap& b) {
    Communicator comm(b, device_for_rank(b), 2);
    DeviceBuffer<unsigned char> s(1 << 20, "send"), d(1 << 20, "recv");
    const Exchange x = Exchange::from_rows({1 << 19, 1 << 19}, 1);
    AllToAll op(comm, Transport::P2p, {}, {{s.get(), &x, d.get(), &x}});
    if (b.rank() == 0) {
      try {
        op.run();  // rank 1 never runs its half
        comm.wait();
      } catch (const GpuError& e) {
        const std::string msg = e.what();
        reported =
            msg.find("rank 0 (GPU 0)") != std::string::npos && msg.find("for rank 1") != std::string::npos;
        if (!reported) ADD_FAILURE() << msg;
      }
    }
    b.barrier();  // rank 1 keeps its buffers mapped until rank 0 is done with them
  });
  EXPECT_TRUE(reported);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 30.0);
}

TEST(P2pTransport, RanksThatDisagreeOnTheSizesAreRefusedBeforeAnyCopy) {
  OCCULT_REQUIRE_GPUS(2);
  // Only rank 1 sends a block of the wrong size, yet both ranks must fail: a rank left waiting for
  // the one that threw would hang under mpirun.
  std::atomic<int> refused{0};
  run_on_threads(2, [&](Bootstrap& b) {
    Communicator comm(b, device_for_rank(b), 10);
    DeviceBuffer<unsigned char> buf(4096, "buf");
    const Exchange out = Exchange::from_rows({1024, 1024}, 1);
    const Exchange in = Exchange::from_rows({1024, b.rank() == 0 ? 1000 : 1024}, 1);
    try {
      AllToAll op(comm, Transport::P2p, {}, {{buf.get(), &out, buf.get(), &in}});
    } catch (const GpuError& e) {
      if (std::string(e.what()).find(b.rank() == 1 ? "which expects 1000" : "rank 1 sends") !=
          std::string::npos)
        ++refused;
      else
        ADD_FAILURE() << "rank " << b.rank() << ": " << e.what();
    }
  });
  EXPECT_EQ(refused.load(), 2);
}

// Restores the process's NCCL mode when a test that changes it ends.
struct ModeScope {
  explicit ModeScope(NcclMode m) { set_nccl_mode(m); }
  ~ModeScope() { set_nccl_mode(NcclMode::Blocking); }
};

class CommunicatorModes : public testing::TestWithParam<NcclMode> {};

TEST_P(CommunicatorModes, MissingPeerTimesOutInsteadOfHanging) {
  OCCULT_REQUIRE_GPUS(2);
  ModeScope mode(GetParam());
  const auto t0 = std::chrono::steady_clock::now();
  std::atomic<bool> aborted{false};
  run_on_threads(2, [&](Bootstrap& b) {
    Communicator comm(b, device_for_rank(b), 3);
    EXPECT_EQ(comm.blocking(), GetParam() == NcclMode::Blocking);
    DeviceBuffer<unsigned char> buf(64 << 20, "buf");
    const Exchange x = Exchange::from_rows({0, 64 << 20}, 1), none = Exchange::from_rows({0, 0}, 1);
    if (b.rank() == 0) {
      try {
        comm.alltoallv({{buf.get(), &none, buf.get(), &x}});  // rank 1 never sends what rank 0 waits for
        comm.wait();
      } catch (const GpuError& e) {
        const std::string msg = e.what();
        aborted = msg.find("rank 0 (GPU 0)") != std::string::npos &&
                  msg.find("communicator aborted") != std::string::npos;
        if (!aborted) ADD_FAILURE() << msg;
      }
    }
    // Rank 1 stays alive (and silent) until rank 0 has given up: a peer that never answers. (A peer
    // that leaves is FailedPeerEndsTheWait.) Rank 0 waits on a receive, not a send: NCCL 2.28 was
    // seen to complete a 64 MiB send to a silent in-process peer, while a receive cannot complete
    // before its sender has written the bytes.
    b.barrier();
  });
  EXPECT_TRUE(aborted);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 60.0);
}

TEST_P(CommunicatorModes, FailedPeerEndsTheWaitAndItsErrorIsReported) {
  OCCULT_REQUIRE_GPUS(2);
  ModeScope mode(GetParam());
  const auto t0 = std::chrono::steady_clock::now();
  try {
    run_on_threads(2, [&](Bootstrap& b) {
      Communicator comm(b, device_for_rank(b), 30);
      DeviceBuffer<unsigned char> buf(1 << 20, "buf");
      if (b.rank() == 1) throw std::runtime_error("rank 1 broke before its exchange");
      const Exchange x = Exchange::from_rows({0, 1 << 20}, 1);
      comm.alltoallv({{buf.get(), &x, buf.get(), &x}});  // rank 1 is gone: never completes
      comm.wait();
    });
    FAIL() << "expected rank 1's error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "rank 1 broke before its exchange");
  }
  // The surviving rank noticed the failed peer, not its own 30 s timeout.
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 20.0);
}

INSTANTIATE_TEST_SUITE_P(Nccl, CommunicatorModes, testing::Values(NcclMode::Blocking, NcclMode::NonBlocking),
                         [](const testing::TestParamInfo<NcclMode>& i) {
                           return std::string(i.param == NcclMode::Blocking ? "Blocking" : "NonBlocking");
                         });

// The watchdog of host-blocking NCCL calls (no GPU needed): a call that overruns its deadline ends
// the process with status 1 and a message naming who and what; one that returns in time does not.
TEST(Watchdog, OverrunEndsTheProcessWithAMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        Watchdog w("rank 3 (GPU 1)", 0.2);
        Watchdog::Guard g(w, "a stuck call");
        std::this_thread::sleep_for(std::chrono::seconds(10));
      },
      testing::ExitedWithCode(1), "rank 3 \\(GPU 1\\): a stuck call did not return within 0.2 s");
}

TEST(Watchdog, CallsThatReturnInTimeAreLeftAlone) {
  Watchdog w("rank 0 (GPU 0)", 0.2);
  for (int i = 0; i < 5; ++i) {
    Watchdog::Guard g(w, "a quick call");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // disarmed: nothing fires
  SUCCEED();
}

TEST(DeviceBuffer, OutOfMemoryNamesTheSizes) {
  OCCULT_REQUIRE_GPUS(1);
  try {
    DeviceBuffer<unsigned char> huge(std::size_t(1) << 50, "a test buffer");
    FAIL() << "a petabyte allocation succeeded";
  } catch (const GpuError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("out of GPU memory allocating a test buffer"), std::string::npos) << msg;
    EXPECT_NE(msg.find("MiB free"), std::string::npos) << msg;
  }
  // The context still works after the failed allocation.
  DeviceBuffer<int> ok(16, "small");
  EXPECT_NE(ok.get(), nullptr);
}

}  // namespace
}  // namespace occult::gpu
