#pragma once
// Runs one grouped expert GEMM on the kernel a GemmKernel names: mma.sync or wgmma main loop, 128- or
// 256-wide tiles. TileOf<N> is the tile kind at width N (GatherTiles<kEpi>::Of, WeightGradTile).
#include "kernels/expert_gemm_choice.hpp"
#include "kernels/expert_gemm_mma.cuh"
#include "kernels/expert_gemm_wgmma.cuh"

namespace occult::kernels::detail {

template <template <int> class TileOf>
void launch_expert_gemm(GemmKernel k, const typename TileOf<128>::Args& g, cudaStream_t stream) {
  switch (k) {
    case GemmKernel::Mma128:
      return launch_expert_gemm_mma<TileOf<128>>(g, stream);
    case GemmKernel::Mma256:
      return launch_expert_gemm_mma<TileOf<256>>(g, stream);
    case GemmKernel::Wgmma128:
      return launch_expert_gemm_wgmma<TileOf<128>>(g, stream);
    case GemmKernel::Wgmma256:
      return launch_expert_gemm_wgmma<TileOf<256>>(g, stream);
    case GemmKernel::Auto:
      break;
  }
  throw CudaError("expert GEMM: no kernel chosen");
}

}  // namespace occult::kernels::detail
