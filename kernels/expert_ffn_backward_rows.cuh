#pragma once
// The last step of the tensor-core backward paths (cuBLAS and fused): the input gradient of each
// received row is the sum of its pairs' gradients, in slot order (deterministic, no atomics).
#include "kernels/expert_index.cuh"

namespace occult::kernels::detail {

// d_rows[r] = bf16(sum over the row's slots s of dx[pair of (r, s)]), zero for rows without a pair.
// dx: [pairs x hidden] in the index's pair order. pair_of: scratch of rows * slots int32.
void sum_pair_rows(const RecvView& recv, const ExpertIndex& ix, const Bf16* dx, int hidden,
                   std::int32_t* pair_of, Bf16* d_rows, cudaStream_t stream);

}  // namespace occult::kernels::detail
