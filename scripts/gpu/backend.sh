#!/usr/bin/env bash
# GPU backend job, run ON the GPU machine from the repository root (2 H200 with NVLink):
# build, GPU tests (+ compute-sanitizer), dispatch/combine and whole-layer benchmarks on the three
# NCCL paths, the PyTorch baseline in the same job, and `occult calibrate`. Everything lands in
# $OUT: summary.md (the side-by-side tables), profile.json (the profile), backend-results.tgz (all
# JSON and logs). Needs .deps (scripts/gpu/fetch-deps.sh) and .gpu/torch_baseline.py carried along.
#   [PATHS="nvlink pcie network"] bash scripts/gpu/backend.sh [STEP...]
# PATHS limits the a2a and layer runs to some NCCL paths (default: all three).
# Steps (default: all but sanitizer and bench): tests sanitizer torch a2a layer mpi scenario bench
# calibrate. The build always runs.
# Transports: every NVLink a2a/layer/mpi run is made with NCCL (--transport nccl, the default) and
# again with the direct P2P path (--transport p2p; run names end in -p2p, -p2p-ce for copy engines).
set -uo pipefail
cd "$(dirname "$0")/../.."
steps=" ${*:-tests torch a2a layer mpi scenario calibrate} "
want() { [[ "$steps" == *" $1 "* ]]; }
OUT=${OUT:-/tmp/occult-backend}
# Work outside $OUT by default: only a few files come back from the device machine, so $OUT gets the
# summary, the profile and one archive of everything. OCCULT_WORK=$OUT/work keeps every file in $OUT
# as it is written (a short run cut by its time limit still returns what it measured).
W=${OCCULT_WORK:-/tmp/occult-work}
R=$W/backend
rm -rf "$R" && mkdir -p "$R" "$OUT"
# NVLink multicast stays off on shared hosts (the device machine's rule); the backend also forces it.
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
log() { echo "[$(date +%T)] $*" | tee -a "$R/steps.log" >&2; }
B=build-gpu
O=$B/occult

log "env"
{ git rev-parse HEAD 2>/dev/null; nvidia-smi; nvidia-smi topo -m; nvcc --version; which mpirun && mpirun --version; } \
  >"$R/env.txt" 2>&1

log "configure + build"
cmake -S . -B $B -G Ninja -DCMAKE_BUILD_TYPE=Release -DOCCULT_SIMGRID=OFF -DOCCULT_BENCH=ON \
  >"$R/configure.log" 2>&1 || { tail -30 "$R/configure.log"; exit 1; }
cmake --build $B -j "$(nproc)" --target occult >"$R/build.log" 2>&1 \
  || { grep -E "error|FAILED" "$R/build.log" | head -40; exit 1; }
# The test binary also holds other folders' GPU tests, which may be mid-change in a shared tree: a
# failure to build it skips the test steps instead of the measurements.
tests_built=0
if want tests || want sanitizer; then
  tests_built=1
  cmake --build $B -j "$(nproc)" --target occult_gpu_tests >>"$R/build.log" 2>&1 \
  || { tests_built=0; echo "occult_gpu_tests did not build; test steps skipped" | tee -a "$R/steps.log";
       grep -E "error|FAILED" "$R/build.log" | head -20; }
fi
grep -i "mpi" "$R/configure.log" | tee -a "$R/steps.log"

if want tests && [ $tests_built = 1 ]; then
  log "GPU tests (backend)"
  timeout 200 $B/tests/occult_gpu_tests --gtest_filter='Backend*:ThreadBootstrap*:Communicator*:*CommunicatorModes*:*Transports*:P2p*:DeviceBuffer*:Watchdog*' \
    >"$R/gpu-tests.log" 2>&1
  echo "gpu tests rc=$?" | tee -a "$R/steps.log"
  grep -E "^\[  (PASSED|FAILED|SKIPPED) |FAILED  \]" "$R/gpu-tests.log" | tail -30
fi

run() {  # name, env assignments..., -- occult args...
  local name=$1; shift
  local path
  path=$(echo "$name" | cut -d- -f2)
  case $path in nvlink | pcie | network) [[ " ${PATHS:-nvlink pcie network} " == *" $path "* ]] || return 0 ;; esac
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  log "gpu-run $name: ${envs[*]} $*"
  env "${envs[@]}" timeout 150 $O gpu-run "$@" --json >"$R/$name.json" 2>"$R/$name.err"
  echo "$name rc=$?" | tee -a "$R/steps.log"
}
mpi_run() {  # name, occult args...: one process per GPU under mpirun
  local name=$1; shift
  command -v mpirun >/dev/null || return 0
  log "mpirun gpu-run $name: $*"
  timeout 150 mpirun -np 2 --bind-to none $O gpu-run "$@" --json >"$R/$name.json" 2>"$R/$name.err"
  echo "$name rc=$?" | tee -a "$R/steps.log"
}
P_NV=(NCCL_NVLS_ENABLE=0)
P_PCIE=(NCCL_P2P_DISABLE=1)
P_NET=(NCCL_P2P_DISABLE=1 NCCL_SHM_DISABLE=1)

if want torch; then
  log "PyTorch baseline (same job)"
  mkdir -p "$R/torch"
  OUT="$R/torch" PYTHONUNBUFFERED=1 timeout 300 python3 .gpu/torch_baseline.py >"$R/torch/log.txt" 2>&1
  echo "torch rc=$?" | tee -a "$R/steps.log"
fi
if want a2a; then
  # Dispatch + combine alone at DeepSeek-V3 width (h=7168, 256 experts, top-8).
  run "a2a-nvlink-128" "${P_NV[@]}" -- --model deepseek-v3 --tokens 128 --comm-only --iters 50
  run "a2a-nvlink-128-p2p" "${P_NV[@]}" -- --model deepseek-v3 --tokens 128 --comm-only --iters 50 --transport p2p
  run "a2a-nvlink-128-p2p-ce" "${P_NV[@]}" -- --model deepseek-v3 --tokens 128 --comm-only --iters 50 --transport p2p --p2p-copy ce
  mpi_run "a2a-nvlink-128-mpi-p2p" --model deepseek-v3 --tokens 128 --comm-only --iters 50 --transport p2p
  mpi_run "a2a-nvlink-128-mpi" --model deepseek-v3 --tokens 128 --comm-only --iters 50
  for t in 1024 8192 32768; do
    run "a2a-nvlink-$t" "${P_NV[@]}" -- --model deepseek-v3 --tokens $t --comm-only --iters 20
    run "a2a-nvlink-$t-p2p" "${P_NV[@]}" -- --model deepseek-v3 --tokens $t --comm-only --iters 20 --transport p2p
    run "a2a-nvlink-$t-p2p-ce" "${P_NV[@]}" -- --model deepseek-v3 --tokens $t --comm-only --iters 20 --transport p2p --p2p-copy ce
  done
  run "a2a-nvlink-32768-p2p-b264" "${P_NV[@]}" -- --model deepseek-v3 --tokens 32768 --comm-only --iters 20 --transport p2p --p2p-blocks 264
  mpi_run "a2a-nvlink-32768-mpi-p2p" --model deepseek-v3 --tokens 32768 --comm-only --iters 20 --transport p2p
  # Small batch, what each default costs: NCCL's non-blocking mode (a helper thread per exchange), the
  # count exchange read back before the pack (sync), and both (the defaults before 2026-11-28 15:00).
  run "a2a-nvlink-128-nonblocking" "${P_NV[@]}" -- --model deepseek-v3 --tokens 128 --comm-only --iters 50 --nccl-mode nonblocking
  run "a2a-nvlink-128-sync" "${P_NV[@]}" -- --model deepseek-v3 --tokens 128 --comm-only --iters 50 --counts sync
  run "a2a-nvlink-128-nonblocking-sync" "${P_NV[@]}" -- --model deepseek-v3 --tokens 128 --comm-only --iters 50 --nccl-mode nonblocking --counts sync
  for t in 128 8192; do
    run "a2a-pcie-$t" "${P_PCIE[@]}" -- --model deepseek-v3 --tokens $t --comm-only --iters 10
    run "a2a-network-$t" "${P_NET[@]}" -- --model deepseek-v3 --tokens $t --comm-only --iters 5
  done
fi
if want layer; then
  # Whole layer at OLMoE shape (64 experts, top-8), forward and training, on the three paths.
  for t in 128 4096; do
    run "layer-nvlink-$t" "${P_NV[@]}" -- --model olmoe-1b-7b --tokens $t --train --iters 20
    run "layer-nvlink-$t-p2p" "${P_NV[@]}" -- --model olmoe-1b-7b --tokens $t --train --iters 20 --transport p2p
    run "layer-pcie-$t" "${P_PCIE[@]}" -- --model olmoe-1b-7b --tokens $t --train --iters 10
    run "layer-network-$t" "${P_NET[@]}" -- --model olmoe-1b-7b --tokens $t --train --iters 5
  done
  run "layer-nvlink-128-nonblocking-sync" "${P_NV[@]}" -- --model olmoe-1b-7b --tokens 128 --train --iters 20 --nccl-mode nonblocking --counts sync
fi
if want mpi; then
  mpi_run "layer-nvlink-4096-mpi" --model olmoe-1b-7b --tokens 4096 --train --iters 20
  mpi_run "layer-nvlink-4096-mpi-p2p" --model olmoe-1b-7b --tokens 4096 --train --iters 20 --transport p2p
fi
if want scenario; then
  # A scenario file's layer on these GPUs: the default scenario (8 PCIe GPUs) at its model, routing
  # and tokens per GPU, on the 2 GPUs here.
  run "scenario-default" "${P_NV[@]}" -- scenarios/default.toml --gpus 2 --iters 10
  tail -3 "$R/scenario-default.err"
fi
if want bench; then
  log "Google Benchmark: backend/dispatch_combine"
  cmake --build $B -j "$(nproc)" --target occult_bench_gpu >>"$R/build.log" 2>&1 || echo "bench build failed"
  timeout 120 $B/bench/occult_bench_gpu --benchmark_filter='backend/' --benchmark_out="$R/bench-backend.json" \
    --benchmark_out_format=json >"$R/bench-backend.txt" 2>&1
  echo "bench rc=$?" | tee -a "$R/steps.log"
  tail -12 "$R/bench-backend.txt"
fi
if want calibrate; then
  log "calibrate"
  # The validation matrix script knows the nominal figures of the 2-GPU paths (topologies/h200x2-*).
  OUT=$R/cal OCCULT=$O bash reports/validation/run-matrix.sh calibrate
  echo "calibrate rc=$?" | tee -a "$R/steps.log"
  tail -3 "$R/cal/calibrate.log"
  cp "$R/cal/profile.json" "$R/profile.json" 2>/dev/null
  cp "$R/profile.json" "$OUT/" 2>/dev/null
fi
if want sanitizer && [ $tests_built = 1 ]; then
  log "compute-sanitizer (memcheck): NCCL layer tests (threads), then the p2p layer under mpirun"
  timeout 200 compute-sanitizer --tool memcheck --report-api-errors no --error-exitcode 9 \
    $B/tests/occult_gpu_tests --gtest_filter='BackendLayer.ForwardOverShapes:*Transports.*/nccl' \
    >"$R/sanitizer.log" 2>&1
  echo "compute-sanitizer rc=$?" | tee -a "$R/steps.log"
  tail -3 "$R/sanitizer.log"
  # The P2P transport under memcheck with one process per GPU (CUDA IPC mappings), the layer checked.
  # (In the threads fallback its exchanges do not complete under memcheck; docs/gpu-backend.md.)
  if command -v mpirun >/dev/null; then
    timeout 150 mpirun -np 2 --bind-to none compute-sanitizer --tool memcheck --report-api-errors no --error-exitcode 9 \
      $O gpu-run --model olmoe-1b-7b --tokens 128 --train --iters 2 --warmup 0 --transport p2p --timeout 30 --no-plain \
      >"$R/sanitizer-p2p-mpi.log" 2>&1
    echo "compute-sanitizer p2p mpirun rc=$?" | tee -a "$R/steps.log"
    grep -E "ERROR SUMMARY|PASS|FAIL" "$R/sanitizer-p2p-mpi.log" | tail -4
  fi
fi

for f in "$R"/*.err; do [ -s "$f" ] && { echo "== $f"; tail -4 "$f"; }; done

log "tables"
python3 scripts/gpu/backend_table.py "$R" --runs-json "$OUT/backend-runs.json" >"$R/summary.md" 2>"$R/table.err" \
  || cat "$R/table.err"
cp "$R/summary.md" "$OUT/summary.md"
tar czf "$OUT/backend-results.tgz" -C "$W" backend
cat "$OUT/summary.md"
tail -40 "$R/steps.log" >&2
