#!/usr/bin/env bash
# Kernels on a GPU machine, in one job: configure + build, the SASS check (wgmma kernels must hold
# HGMMA), GPU kernel tests, the sparse expert FFN benchmark (ours: automatic choice
# and each GEMM kernel forced; cuBLAS per-expert; cuBLAS dense) and the PyTorch numbers (shared
# torch_baseline.py and the torch grouped FFN path) side by side in one table
# (scripts/gpu/kernels_table.py), then compute-sanitizer memcheck, racecheck and synccheck.
# Run from the repository root on the GPU machine (deps from scripts/gpu/fetch-deps.sh in .deps/,
# torch_baseline.py copied to .gpu/). Results go to $OUT (default results/gpu/local).
#   OUT=/tmp/k bash scripts/gpu/kernels.sh            # everything
#   SKIP_TORCH=1 SKIP_SANITIZER=1 bash scripts/gpu/kernels.sh
#   SKIP_TORCH_BASELINE=1 bash scripts/gpu/kernels.sh    # the torch grouped FFN path, not torch_baseline.py
#   BENCH_FILTER=^ffn/dsv3/ bash scripts/gpu/kernels.sh  # some benchmark rows only
#   PREBUILT=dir bash scripts/gpu/kernels.sh          # skip the build: dir holds occult_gpu_tests,
#                                                     # occult_bench_gpu and expert_ffn.cu.o (built
#                                                     # elsewhere with the same CUDA 13.0 nvcc)
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-results/gpu/local}
mkdir -p "$OUT"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
BUILD=${BUILD:-build-gpu}
log="$OUT/kernels-log.txt"
exec > >(tee "$log") 2>&1
status=0
t_start=$(date +%s)
stage() { echo "== $* (at $(($(date +%s) - t_start)) s)"; }

echo "== provenance"
date -u +%Y-%m-%dT%H:%M:%SZ
echo "command: OUT=$OUT${PREBUILT:+ PREBUILT=$PREBUILT}${BENCH_FILTER:+ BENCH_FILTER=$BENCH_FILTER}${SKIP_TORCH_BASELINE:+ SKIP_TORCH_BASELINE=1} bash scripts/gpu/kernels.sh"
git rev-parse --verify -q HEAD || echo "git: no repository here (the working tree was copied; see the commit that added these results)"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader
/usr/local/cuda/bin/nvcc --version | tail -2
grep -E '#define NCCL_(MAJOR|MINOR|PATCH) ' /usr/include/nccl.h | awk '{printf "%s=%s ", $2, $3} END {print ""}'

if [ -n "${PREBUILT:-}" ]; then
  echo "== prebuilt binaries from $PREBUILT"
  [ -f "$PREBUILT/BUILD_INFO" ] && cat "$PREBUILT/BUILD_INFO"
  tests_bin="$PREBUILT/occult_gpu_tests" bench_bin="$PREBUILT/occult_bench_gpu" ffn_obj="$PREBUILT/expert_ffn.cu.o"
else
  echo "== build"
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DOCCULT_SIMGRID=OFF -DOCCULT_CUDA=ON >"$OUT/cmake.txt" 2>&1 ||
    { tail -30 "$OUT/cmake.txt"; exit 1; }
  cmake --build "$BUILD" -j "$(nproc)" --target occult_gpu_tests occult_bench_gpu -- -k 0 >"$OUT/build.txt" 2>&1 ||
    grep -E "error|FAILED" "$OUT/build.txt" | head -40
  rm -f "$OUT/cmake.txt" "$OUT/build.txt"
  tests_bin="$BUILD/tests/occult_gpu_tests" bench_bin="$BUILD/bench/occult_bench_gpu"
  ffn_obj="$BUILD/kernels/CMakeFiles/occult_kernels.dir/expert_ffn.cu.o"
fi
[ -x "$tests_bin" ] || { echo "build failed"; exit 1; }

stage "SASS: tensor-core instructions per expert GEMM kernel (HGMMA = wgmma, HMMA = mma.sync)"
cuobjdump --dump-sass "$ffn_obj" | awk '/Function :/ { f = $3 } /HGMMA/ { h[f]++ } / HMMA/ { m[f]++ }
  END { for (k in h) print "HGMMA", h[k], k; for (k in m) print "HMMA ", m[k], k }' | sort
cuobjdump --dump-sass "$ffn_obj" | awk '/Function :/ { f = $3 } /HGMMA/ { h[f]++ }
  END { for (k in h) if (k ~ /wgmma/) n++; exit n == 6 ? 0 : 1 }' || { echo "SASS check failed: want HGMMA in all 6 wgmma kernels"; status=1; }

stage "GPU kernel tests"
filter='Gpu*'
"$tests_bin" --gtest_filter="$filter" || status=1

stage "benchmark: sparse expert FFN"
"$bench_bin" --benchmark_filter="${BENCH_FILTER:-^ffn/}" --benchmark_out="$OUT/kernels-bench.json" --benchmark_out_format=json \
  --benchmark_counters_tabular=true || status=1

if [ -z "${SKIP_TORCH:-}" ]; then
  stage "PyTorch grouped FFN path (same shapes)"
  PYTHONUNBUFFERED=1 python3 bench/gpu/bench_kernels_torch.py "$OUT/kernels-torch.json" || status=1
  if [ -f .gpu/torch_baseline.py ] && [ -z "${SKIP_TORCH_BASELINE:-}" ]; then
    stage "torch_baseline.py (dense / grouped GEMM, copy)"
    mkdir -p "$OUT/torch_baseline"
    # One visible GPU: its GEMM and copy numbers only (the all-to-all belongs to the backend's job).
    CUDA_VISIBLE_DEVICES=0 OUT="$OUT/torch_baseline" PYTHONUNBUFFERED=1 python3 .gpu/torch_baseline.py >/dev/null || status=1
  fi
fi

stage "table"
python3 scripts/gpu/kernels_table.py "$OUT" || status=1

# Last, so that a slow sanitizer run cannot cost the numbers.
# The tests run GemmKernel::Auto (wgmma on sm_90: MatchesCublasPath checks that the rule picked both
# wgmma widths) and every kernel forced, so these cover all six wgmma kernels.
if [ -z "${SKIP_SANITIZER:-}" ]; then
  sanitize() {  # tool, gtest filter
    stage "compute-sanitizer $1 ($2)"
    timeout 150 compute-sanitizer --tool "$1" --error-exitcode 3 "$tests_bin" --gtest_filter="$2" >"$OUT/san.txt" 2>&1 ||
      { echo "compute-sanitizer $1: exit $?"; grep -m 40 '^=========' "$OUT/san.txt"; status=1; }
    grep -E '^\[  (FAILED|PASSED) |^\[==========\] [0-9]+ tests? from .* ran|SUMMARY' "$OUT/san.txt"
    rm -f "$OUT/san.txt"
  }
  sanitize memcheck 'GpuLayer.ModelShapes:GpuExpertFfn.*:GpuUnpack.*:GpuKernels.*'
  sanitize racecheck 'GpuExpertFfn.MatchesCublasPath'
  sanitize synccheck 'GpuExpertFfn.MatchesCublasPath'
fi

stage "done (status $status)"
exit $status
