#!/usr/bin/env bash
# The expert FFN backward on a GPU machine, in one job: build, the backward GPU tests, the backward
# benchmark (tensor-core paths vs the SIMT baseline vs the forward, one line per problem),
# compute-sanitizer, provenance. From the repository root (deps in .deps/ from
# scripts/gpu/fetch-deps.sh):
#   OUT=/tmp/bwd bash results/gpu/backward-2026-11-28/run.sh
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-/tmp/backward}
mkdir -p "$OUT"
export NCCL_NVLS_ENABLE=0
BUILD=${BUILD:-build-gpu}
exec > >(tee "$OUT/backward-log.txt") 2>&1
status=0

echo "== provenance"
date -u +%Y-%m-%dT%H:%M:%SZ
echo "command: OUT=\$OUT bash results/gpu/backward-2026-11-28/run.sh"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader
/usr/local/cuda/bin/nvcc --version | tail -2
grep -E '#define CUBLAS_VER_(MAJOR|MINOR|PATCH) ' /usr/local/cuda/include/cublas_api.h | awk '{printf "%s=%s ", $2, $3} END {print ""}'

echo "== build"
t0=$(date +%s)
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DOCCULT_SIMGRID=OFF -DOCCULT_CUDA=ON >"$OUT/cmake.txt" 2>&1 ||
  { tail -30 "$OUT/cmake.txt"; exit 1; }
cmake --build "$BUILD" -j "$(nproc)" --target occult_gpu_tests occult_bench_gpu -- -k 0 >"$OUT/build.txt" 2>&1 ||
  grep -E "error|FAILED" "$OUT/build.txt" | head -40
[ -x "$BUILD/tests/occult_gpu_tests" ] && [ -x "$BUILD/bench/occult_bench_gpu" ] || { echo "build failed"; exit 1; }
rm -f "$OUT/cmake.txt" "$OUT/build.txt"
echo "build took $(($(date +%s) - t0)) s"

echo "== backward GPU tests"
timeout 150 "$BUILD/tests/occult_gpu_tests" --gtest_filter='*GpuBackward*:GpuExpertFfn.BackwardMatchesReference' || status=1

echo "== benchmark: expert FFN backward"
timeout 200 "$BUILD/bench/occult_bench_gpu" --benchmark_filter='^bwd/' --benchmark_out="$OUT/backward-bench.json" \
  --benchmark_out_format=json --benchmark_counters_tabular=true || status=1

if [ -z "${SKIP_SANITIZER:-}" ]; then
  echo "== compute-sanitizer memcheck (default path, slots 1-8, 8-256 experts, empty inputs)"
  timeout 150 compute-sanitizer --tool memcheck --error-exitcode 3 "$BUILD/tests/occult_gpu_tests" \
    --gtest_filter='Gpu/GpuBackwardPath.SlotsAndExpertCounts/tc_auto:Gpu/GpuBackwardPath.NoRows*:GpuBackward.PlainApi*' 2>&1 | tail -8 || status=1
  echo "== compute-sanitizer racecheck (default path)"
  timeout 60 compute-sanitizer --tool racecheck --error-exitcode 3 "$BUILD/tests/occult_gpu_tests" \
    --gtest_filter='GpuBackward.PlainApi*' 2>&1 | tail -4 || status=1
fi
echo "== done (status $status)"
exit $status
