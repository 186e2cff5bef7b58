// Built when CMake found no MPI: mpirun launches are refused with a clear message; the threads
// fallback still runs every GPU of one node.
#include "backend/bootstrap.hpp"
#include "backend/gpu_error.hpp"

namespace occult::gpu {

bool have_mpi() { return false; }
std::unique_ptr<Bootstrap> make_mpi_bootstrap() {
  throw GpuError(
      "this occult was built without MPI, so it cannot join an mpirun launch; rebuild with an MPI "
      "development package installed (e.g. libopenmpi-dev), or run without mpirun to use one process "
      "with one thread per GPU");
}

}  // namespace occult::gpu
