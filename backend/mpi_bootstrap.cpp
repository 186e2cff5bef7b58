// The bootstrap of the design: one process per GPU started by mpirun. MPI only exchanges the
// ncclUniqueId and small host results; NCCL carries the data. Built only when CMake finds MPI.
#include <mpi.h>

#include <cstdlib>
#include <string>

#include "backend/bootstrap.hpp"
#include "backend/gpu_error.hpp"

namespace occult::gpu {
namespace {

void check_mpi(int rc, const char* what) {
  if (rc != MPI_SUCCESS) {
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    throw GpuError(std::string("MPI ") + what + " failed: " + std::string(msg, std::size_t(len)));
  }
}

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

class MpiBootstrap final : public Bootstrap {
 public:
  MpiBootstrap() {
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) {
      check_mpi(MPI_Init(nullptr, nullptr), "MPI_Init");
      std::atexit([] {
        int fin = 0;
        MPI_Finalized(&fin);
        if (!fin) MPI_Finalize();
      });
    }
    check_mpi(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
    check_mpi(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
    MPI_Comm node;
    check_mpi(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node),
              "MPI_Comm_split_type");
    check_mpi(MPI_Comm_rank(node, &local_), "MPI_Comm_rank(node)");
    MPI_Comm_free(&node);
    // Launchers that say which GPU slot this is win over the shared-memory split.
    local_ =
        env_int("OMPI_COMM_WORLD_LOCAL_RANK", env_int("MPI_LOCALRANKID", env_int("SLURM_LOCALID", local_)));
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_; }
  const char* kind() const override { return "mpi"; }
  void broadcast(void* data, std::size_t bytes, int root) override {
    check_mpi(MPI_Bcast(data, int(bytes), MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
  }
  void allgather(const void* in, void* out, std::size_t bytes) override {
    check_mpi(MPI_Allgather(in, int(bytes), MPI_BYTE, out, int(bytes), MPI_BYTE, MPI_COMM_WORLD),
              "MPI_Allgather");
  }
  void barrier() override { check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }

 private:
  int rank_ = 0, size_ = 1, local_ = 0;
};

}  // namespace

bool have_mpi() { return true; }
std::unique_ptr<Bootstrap> make_mpi_bootstrap() { return std::make_unique<MpiBootstrap>(); }

}  // namespace occult::gpu
