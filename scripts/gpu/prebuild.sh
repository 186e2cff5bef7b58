#!/usr/bin/env bash
# Builds the GPU test and benchmark binaries on this machine (no GPU needed, the same CUDA as the GPU
# machine) into DIR, for `PREBUILT=DIR` runs of scripts/gpu/kernels.sh and scripts/gpu/backward.sh,
# so the GPU machine spends no time building. DIR is ignored by git (.gpu/) and travels with the
# device tool's carry.
#   bash scripts/gpu/prebuild.sh [DIR]        # default .gpu/bin; BUILD=dir picks the build folder
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR=${1:-.gpu/bin}
BUILD=${BUILD:-build-gpu}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DOCCULT_SIMGRID=OFF -DOCCULT_CUDA=ON >/dev/null
cmake --build "$BUILD" --target occult_gpu_tests occult_bench_gpu
mkdir -p "$DIR"
objs="$BUILD/kernels/CMakeFiles/occult_kernels.dir"
cp "$BUILD/tests/occult_gpu_tests" "$BUILD/bench/occult_bench_gpu" "$objs/expert_ffn.cu.o" \
  "$objs/expert_ffn_backward_fused.cu.o" "$DIR/"
# The benchmark library is a system package here and may be missing there.
for lib in $(ldd "$DIR/occult_bench_gpu" | awk '/libbenchmark/ { print $3 }'); do cp -L "$lib" "$DIR/"; done
{
  echo "commit: $(git rev-parse HEAD)$(git diff --quiet HEAD -- . || echo ' plus uncommitted changes')"
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
  /usr/local/cuda/bin/nvcc --version | tail -2
} >"$DIR/BUILD_INFO"
cat "$DIR/BUILD_INFO"
ls -la "$DIR"
