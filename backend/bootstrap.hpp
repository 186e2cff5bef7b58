#pragma once
// How the ranks of one run find each other: MPI when launched by `mpirun` (one process per GPU, any
// number of nodes; the design), or threads of one process (single-node fallback, no MPI needed). NCCL
// moves the data either way; the bootstrap only carries the ncclUniqueId and small host results.
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

namespace occult::gpu {

class Bootstrap {
 public:
  virtual ~Bootstrap() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual int local_rank() const = 0;  // index of this rank's GPU on its node
  virtual void broadcast(void* data, std::size_t bytes, int root) = 0;
  // out holds size() * bytes; rank r's `in` lands at out + r * bytes.
  virtual void allgather(const void* in, void* out, std::size_t bytes) = 0;
  virtual void barrier() = 0;
  virtual const char* kind() const = 0;  // "mpi" or "threads"
  // True once another rank of this run has failed (threads: its exception; MPI learns of a failed
  // rank from mpirun, which ends the job), so a wait on the GPU can stop early instead of timing out.
  virtual bool peer_failed() const { return false; }
  // Called by a communicator released while an exception unwinds this rank: the failure counts from
  // now, before its consequences (a peer's NCCL error) can be mistaken for the cause.
  virtual void failing() noexcept {}

  template <class T>
  std::vector<T> allgather_value(const T& v) {
    std::vector<T> out(static_cast<std::size_t>(size()));
    allgather(&v, out.data(), sizeof(T));
    return out;
  }
};

// Runs body(bootstrap) on `ranks` threads of this process and rethrows the first exception once every
// thread has finished. A failing rank aborts the shared barrier so the others do not wait forever.
void run_on_threads(int ranks, const std::function<void(Bootstrap&)>& body);

// True when this process was started by an MPI launcher (OpenMPI, MPICH, Slurm+PMI environments).
bool launched_by_mpi();
// The MPI bootstrap; throws GpuError when occult was built without MPI. MPI is initialised on first
// use and finalised at exit.
std::unique_ptr<Bootstrap> make_mpi_bootstrap();
bool have_mpi();

}  // namespace occult::gpu
