// `occult calibrate`, links: the all-to-all-v time against message size on the path this process's
// NCCL environment selects (or the direct P2P transport), and the cost of each further message per
// peer in one exchange. Runs in a child process per path (calibrate.cpp says why).
#include <algorithm>
#include <iostream>

#include "backend/all_to_all.hpp"
#include "backend/bootstrap.hpp"
#include "backend/calibrate.hpp"
#include "backend/communicator.hpp"
#include "backend/device_buffer.hpp"
#include "backend/event_timer.hpp"
#include "backend/gpu_error.hpp"
#include "backend/gpu_job.hpp"
#include "backend/p2p_transport.hpp"
#include "backend/provenance.hpp"
#include "backend/synthetic.hpp"
#include "sim/core/error.hpp"

namespace occult::gpu {
namespace {

std::vector<double> link_sizes(const std::string& cls, bool quick) {
  const double top = quick ? 16.0 * (1 << 20) : (cls == "network" ? 128.0 * (1 << 20) : 1024.0 * (1 << 20));
  std::vector<double> v;
  for (double s = 4096; s <= top; s *= 4) v.push_back(s);
  return v;
}

// Messages per peer in the exchange whose extra cost is measured (a layer's dispatch sends rows, two
// metadata arrays and the counts: four).
constexpr int kMessages = 4;
constexpr std::size_t kMessageBytes = 4096;

}  // namespace

LinkCalibration measure_link(const CalibrateOptions& opt) {
  LinkCalibration link;
  link.link_class = link_class_from_env();
  link.transport = opt.transport;
  link.nccl_mode = opt.nccl_mode;
  link.how = link_description(link.link_class) +
             (opt.transport == "p2p" ? "; direct P2P transport (SM copy kernel, signal, bounded wait)" : "");
  const auto sizes = link_sizes(link.link_class, opt.quick);
  std::vector<double> seconds(sizes.size());
  double one = 0, many = 0;
  const Transport transport = parse_transport(opt.transport);
  auto body = [&](Bootstrap& boot) {
    Communicator comm(boot, device_for_rank(boot), opt.timeout_s);
    const int D = boot.size();
    const std::size_t top = std::size_t(sizes.back());
    // Padded for the P2P transport, which shares receive buffers of at least 2 MiB across processes.
    const std::size_t cap = std::max(top * std::size_t(D), kP2pMinShared);
    DeviceBuffer<unsigned char> send(cap, "calibration send"), recv(cap, "calibration recv");
    fill_synthetic_bf16(reinterpret_cast<std::uint16_t*>(send.get()), send.size() / 2, 5, kInputStream, 0,
                        1.0f, comm.stream());
    auto timed = [&](const std::vector<Communicator::Part>& parts, int iters) {
      AllToAll op(comm, transport, P2pOptions{}, parts);
      boot.barrier();
      const double t = time_median(comm.stream(), 3, iters, [&](cudaStream_t) { op.run(); });
      std::vector<double> all(static_cast<std::size_t>(D));
      boot.allgather(&t, all.data(), sizeof(double));
      return *std::max_element(all.begin(), all.end());
    };
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      const auto x = Exchange::from_rows(std::vector<std::int64_t>(std::size_t(D), 1), std::size_t(sizes[i]));
      // Large messages need few repeats to be stable; small ones many.
      const int iters = sizes[i] >= (64 << 20) ? std::max(3, opt.iters / 2) : opt.iters * 2;
      const double t = timed({{send.get(), &x, recv.get(), &x}}, iters);
      if (boot.rank() == 0) {
        seconds[i] = t;
        std::cerr << "calibrate " << link.link_class << " (" << opt.transport << "): " << sizes[i]
                  << " B per peer: " << t * 1e6 << " us\n";
      }
    }
    // The same bytes per peer as one message and as kMessages messages of one group.
    const auto whole =
        Exchange::from_rows(std::vector<std::int64_t>(std::size_t(D), 1), kMessages * kMessageBytes);
    const auto piece = Exchange::from_rows(std::vector<std::int64_t>(std::size_t(D), 1), kMessageBytes);
    const std::size_t stride = kMessageBytes * std::size_t(D);
    std::vector<Communicator::Part> parts;
    for (int m = 0; m < kMessages; ++m)
      parts.push_back({send.get() + std::size_t(m) * stride, &piece,
                       recv.get() + std::size_t(m) * stride, &piece});
    const double t1 = timed({{send.get(), &whole, recv.get(), &whole}}, opt.iters * 4);
    const double tm = timed(parts, opt.iters * 4);
    if (boot.rank() == 0) one = t1, many = tm;
  };
  if (launched_by_mpi()) {
    auto boot = make_mpi_bootstrap();
    body(*boot);
  } else {
    const int n = opt.gpus > 0 ? opt.gpus : visible_gpus();
    if (n < 2)
      throw InputError("", 0, "gpus",
                       "link calibration needs at least 2 GPUs (" + std::to_string(n) + " visible)");
    run_on_threads(n, body);
  }
  for (std::size_t i = 0; i < sizes.size(); ++i) link.samples.push_back({sizes[i], seconds[i]});
  link.message_s = std::max(0.0, (many - one) / (kMessages - 1));
  std::cerr << "calibrate " << link.link_class << ": " << kMessages << " messages per peer " << many * 1e6
            << " us against one " << one * 1e6 << " us: " << link.message_s * 1e6 << " us per message\n";
  link.provenance = collect_provenance();
  return link;
}

}  // namespace occult::gpu
