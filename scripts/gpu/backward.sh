#!/usr/bin/env bash
# The expert FFN backward on a GPU machine, in one job: the SASS check (the fused backward's wgmma
# kernels hold HGMMA), the kernel tests (backward on every path, the fused path with every GEMM
# kernel forced and its determinism, the forward, whose GEMMs it shares), the whole-layer tests with
# the fused backward, the backward benchmark (bwd/ rows: fused, cuBLAS and SIMT paths next to the
# forward) and the graph-capture benchmark (graph/ rows), one table (scripts/gpu/backward_table.py),
# then compute-sanitizer memcheck and racecheck on the fused backward. Every stage has a timeout;
# with PREBUILT it is meant to finish in under 8 minutes on one H100.
# Run from the repository root on the GPU machine. Results go to $OUT (default results/gpu/local).
#   bash scripts/gpu/prebuild.sh .gpu/bin                   # here, no GPU: binaries into .gpu/bin
#   OUT=/tmp/b PREBUILT=.gpu/bin bash scripts/gpu/backward.sh # there
#   BENCH_FILTER='^bwd/olmoe/' GRAPH_FILTER=x SKIP_SANITIZER=1 ... # fewer rows, no sanitizer
# Timeouts (s): tests 130, layer 50, bwd/ rows 120, graph/ rows 30, memcheck 60, racecheck 90 (480 in all).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
OUT=${OUT:-results/gpu/local}
mkdir -p "$OUT"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
BUILD=${BUILD:-build-gpu}
log="$OUT/backward-log.txt"
exec > >(tee "$log") 2>&1
status=0
t_start=$(date +%s)
stage() { echo "== $* (at $(($(date +%s) - t_start)) s)"; }
# timeout with a note: 124 is the timeout's own exit status.
limited() {  # seconds, command...
  local s=$1
  shift
  timeout "$s" "$@"
  local rc=$?
  [ $rc -eq 124 ] && echo "TIMEOUT after $s s: $*"
  return $rc
}

echo "== provenance"
date -u +%Y-%m-%dT%H:%M:%SZ
echo "command: OUT=$OUT${PREBUILT:+ PREBUILT=$PREBUILT}${BENCH_FILTER:+ BENCH_FILTER=$BENCH_FILTER} bash scripts/gpu/backward.sh"
git rev-parse --verify -q HEAD || echo "git: no repository here (the working tree was copied)"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader
/usr/local/cuda/bin/nvcc --version | tail -2

if [ -n "${PREBUILT:-}" ]; then
  echo "== prebuilt binaries from $PREBUILT"
  [ -f "$PREBUILT/BUILD_INFO" ] && cat "$PREBUILT/BUILD_INFO"
  prebuilt_abs=$(cd "$PREBUILT" && pwd)
  export LD_LIBRARY_PATH="$prebuilt_abs:/usr/local/cuda/lib64:/usr/local/cuda/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  tests_bin="$PREBUILT/occult_gpu_tests" bench_bin="$PREBUILT/occult_bench_gpu"
  ffn_obj="$PREBUILT/expert_ffn.cu.o" bwd_obj="$PREBUILT/expert_ffn_backward_fused.cu.o"
else
  echo "== build"
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DOCCULT_SIMGRID=OFF -DOCCULT_CUDA=ON >"$OUT/cmake.txt" 2>&1 ||
    { tail -30 "$OUT/cmake.txt"; exit 1; }
  cmake --build "$BUILD" -j "$(nproc)" --target occult_gpu_tests occult_bench_gpu -- -k 0 >"$OUT/build.txt" 2>&1 ||
    grep -E "error|FAILED" "$OUT/build.txt" | head -40
  rm -f "$OUT/cmake.txt" "$OUT/build.txt"
  tests_bin="$BUILD/tests/occult_gpu_tests" bench_bin="$BUILD/bench/occult_bench_gpu"
  ffn_obj="$BUILD/kernels/CMakeFiles/occult_kernels.dir/expert_ffn.cu.o"
  bwd_obj="$BUILD/kernels/CMakeFiles/occult_kernels.dir/expert_ffn_backward_fused.cu.o"
fi
if [ ! -x "$tests_bin" ] || [ ! -x "$bench_bin" ]; then
  echo "binaries missing (build failed?)"
  exit 1
fi

stage "SASS: tensor-core instructions per GEMM kernel (HGMMA = wgmma, HMMA = mma.sync)"
sass_check() {  # object, wgmma kernels expected
  cuobjdump --dump-sass "$1" | awk '/Function :/ { f = $3 } /HGMMA/ { h[f]++ } / HMMA/ { m[f]++ }
    END { for (k in h) print "HGMMA", h[k], k; for (k in m) print "HMMA ", m[k], k }' | sort
  cuobjdump --dump-sass "$1" | awk -v want="$2" '/Function :/ { f = $3 } /HGMMA/ { h[f]++ }
    END { for (k in h) if (k ~ /wgmma/) n++; exit n == want ? 0 : 1 }' ||
    { echo "SASS check failed: want HGMMA in all $2 wgmma kernels of $1"; status=1; }
}
# Forward: SwiGLU, ScatterStore, ScatterAtomic; backward: GateUp, GatherStore, PairStore, weight
# gradients; each at two tile widths.
sass_check "$ffn_obj" 6
sass_check "$bwd_obj" 8

stage "GPU kernel tests (backward, forward, layer kernels)"
limited 130 "$tests_bin" --gtest_filter='Gpu/GpuBackwardPath.*:GpuBackward.*:GpuBackwardFused.*:GpuExpertFfn.*:GpuKernels.*:GpuUnpack.*:GpuLayer.*' ||
  status=1

stage "whole layer, training, with the fused backward (OCCULT_BACKWARD_PATH=fused)"
OCCULT_BACKWARD_PATH=fused limited 50 "$tests_bin" --gtest_filter='BackendLayer.TrainingOverShapes:BackendLayer.P2pTransport' ||
  status=1

# Two runs, each with its own JSON: a run killed by its timeout writes none (its rows done so far are
# in the log).
stage "benchmark: backward (bwd/)"
limited 120 "$bench_bin" --benchmark_filter="${BENCH_FILTER:-^bwd/}" --benchmark_out="$OUT/backward-bench.json" \
  --benchmark_out_format=json --benchmark_counters_tabular=true || status=1
stage "benchmark: graph capture (graph/)"
limited 30 "$bench_bin" --benchmark_filter="${GRAPH_FILTER:-^graph/}" --benchmark_out="$OUT/graph-bench.json" \
  --benchmark_out_format=json --benchmark_counters_tabular=true || status=1

stage "table"
python3 scripts/gpu/backward_table.py "$OUT"/backward-bench.json "$OUT"/graph-bench.json | tee "$OUT/backward-table.md" ||
  status=1

# Last, so that a slow sanitizer run cannot cost the numbers. SmallCases runs every GEMM kernel forced
# (both wgmma widths on sm_90) through the fused backward.
if [ -z "${SKIP_SANITIZER:-}" ]; then
  sanitize() {  # tool, seconds, gtest filter
    stage "compute-sanitizer $1 ($3)"
    limited "$2" compute-sanitizer --tool "$1" --error-exitcode 3 "$tests_bin" --gtest_filter="$3" >"$OUT/san.txt" 2>&1 ||
      { echo "compute-sanitizer $1: exit $?"; grep -m 40 '^=========' "$OUT/san.txt"; status=1; }
    grep -E '^\[  (FAILED|PASSED) |^\[==========\] [0-9]+ tests? from .* ran|SUMMARY' "$OUT/san.txt"
    rm -f "$OUT/san.txt"
  }
  sanitize memcheck 60 'GpuBackwardFused.SmallCases:Gpu/GpuBackwardPath.NoRowsOrNoPairsGiveZeroGradients/fused'
  sanitize racecheck 90 'GpuBackwardFused.SmallCases'
fi

stage "done (status $status)"
exit $status
