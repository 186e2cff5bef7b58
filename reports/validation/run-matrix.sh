#!/usr/bin/env bash
# Runs the validation matrix (matrix.txt) on whatever GPUs this machine has: a calibration profile from
# microbenchmarks (`occult calibrate`), then every matrix run that fits the machine (`occult gpu-run
# --json`), into one file of records that `occult validate` reads. Run it on the GPU machine from the
# repository root; it needs a GPU build of occult (OCCULT, default build-gpu/occult).
#   OUT=DIR [OCCULT=...] [TESTS=path/to/occult_gpu_tests] bash reports/validation/run-matrix.sh [STEP...]
# Steps (default: calibrate matrix): tests calibrate matrix. Writes into OUT:
#   profile.json (calibrate), runs.json (every record, {"format": "occult-gpu-runs", "runs": {...}}),
#   log.txt (what ran, with rc), calibrate.log, matrix.log (each run's stderr), gpu-tests.log.
# With two GPUs or more the links are measured too, with the nominal figures of the 2-GPU topologies
# (topologies/h200x2-*.toml). NVLink multicast stays off (NCCL_NVLS_ENABLE=0).
set -uo pipefail
cd "$(dirname "$0")/../.."
OCC=${OCCULT:-build-gpu/occult}
OUT=${OUT:-/tmp/occult-validation}
steps=" ${*:-calibrate matrix} "
want() { [[ "$steps" == *" $1 "* ]]; }
mkdir -p "$OUT"
W=$(mktemp -d)
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
log() { echo "[$(date -u +%T)] $*" | tee -a "$OUT/log.txt" >&2; }

ngpu=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
log "machine: $ngpu x $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1); $(git rev-parse --short HEAD 2>/dev/null)"
nvidia-smi --query-gpu=index,name,uuid,memory.total,clocks.max.sm,driver_version --format=csv >>"$OUT/log.txt" 2>&1

if want tests; then
  log "GPU tests"
  timeout 400 "${TESTS:-build-gpu/tests/occult_gpu_tests}" >"$OUT/gpu-tests.log" 2>&1
  log "gpu tests rc=$?: $(grep -E '^\[  (PASSED|FAILED|SKIPPED) ' "$OUT/gpu-tests.log" | tr '\n' ' ')"
fi

if want calibrate; then
  # CALIBRATE_ARGS: more calibrate flags (e.g. --iters 5 to fit a short lease).
  # shellcheck disable=SC2206
  args=(calibrate -o "$OUT/profile.json" ${CALIBRATE_ARGS:-})
  if [ "$ngpu" -ge 2 ]; then
    # The nominal figure of each path is its 2-GPU topology's (the file validate matches runs with).
    bw() { awk -v sec="[$2]" '$0==sec{f=1;next} /^\[/{f=0} f&&/bandwidth_GBps/{print $3; exit}' "topologies/$1"; }
    args+=(--p2p --nominal "nvlink=$(bw h200x2-nvlink.toml nvlink),pcie=$(bw h200x2-hoststaged.toml pcie),network=$(bw h200x2-socket.toml fabric.nic)")
  fi
  log "occult ${args[*]}"
  timeout "${CALIBRATE_TIMEOUT:-1200}" "$OCC" "${args[@]}" 2>"$OUT/calibrate.log"
  log "calibrate rc=$?"
fi

if want matrix; then
  while read -r name gpus envs rest; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    # MATRIX_FILTER: a regular expression of the run names to run (a short lease), default all.
    [[ -n "${MATRIX_FILTER:-}" && ! "$name" =~ ${MATRIX_FILTER} ]] && continue
    [ "$gpus" -le "$ngpu" ] || { log "skip $name (needs $gpus GPUs)"; continue; }
    env_args=()
    [ "$envs" != "-" ] && IFS=',' read -r -a env_args <<<"$envs"
    log "gpu-run $name: ${env_args[*]} $rest --gpus $gpus"
    # shellcheck disable=SC2086 # the matrix's arguments are words
    env "${env_args[@]}" timeout "${RUN_TIMEOUT:-600}" "$OCC" gpu-run $rest --gpus "$gpus" --json >"$W/$name.json" 2>"$W/$name.err"
    rc=$?
    log "$name rc=$rc"
    { echo "== $name rc=$rc"; cat "$W/$name.err"; } >>"$OUT/matrix.log"
  done <reports/validation/matrix.txt
  python3 - "$W" "$OUT/runs.json" <<'PY'
import json, os, sys
src, dst = sys.argv[1], sys.argv[2]
runs = {}
for f in sorted(os.listdir(src)):
    if f.endswith(".json"):
        try:
            runs[f[:-5]] = json.load(open(os.path.join(src, f)))
        except ValueError:
            pass  # a run that failed left no record; matrix.log says why
old = json.load(open(dst))["runs"] if os.path.exists(dst) else {}
old.update(runs)
json.dump({"format": "occult-gpu-runs", "runs": old}, open(dst, "w"), indent=1)
print(f"{len(runs)} records -> {dst}")
PY
fi
rm -rf "$W"
log "done"
