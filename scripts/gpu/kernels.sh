#!/usr/bin/env bash
# Kernels on a GPU machine, in one job: configure + build, the SASS check (wgmma kernels must hold
# HGMMA), GPU kernel tests, compute-sanitizer, the sparse expert FFN benchmark (ours: automatic choice
# and each GEMM kernel forced; cuBLAS per-expert; cuBLAS dense) and the PyTorch numbers (shared
# torch_baseline.py and the torch grouped FFN path) side by side, two results tables.
# Run from the repository root on the GPU machine (deps from scripts/gpu/fetch-deps.sh in .deps/,
# torch_baseline.py copied to .gpu/). Results go to $OUT (default results/gpu/local).
#   OUT=/tmp/k bash scripts/gpu/kernels.sh            # everything
#   SKIP_TORCH=1 SKIP_SANITIZER=1 bash scripts/gpu/kernels.sh
#   BENCH_FILTER=^ffn/dsv3/ bash scripts/gpu/kernels.sh  # some benchmark rows only
#   PREBUILT=dir bash scripts/gpu/kernels.sh          # skip the build: dir holds occult_gpu_tests,
#                                                     # occult_bench_gpu and expert_ffn.cu.o
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-results/gpu/local}
mkdir -p "$OUT"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
BUILD=${BUILD:-build-gpu}
log="$OUT/kernels-log.txt"
exec > >(tee "$log") 2>&1
status=0

echo "== provenance"
date -u +%Y-%m-%dT%H:%M:%SZ
echo "command: OUT=$OUT bash scripts/gpu/kernels.sh"
git rev-parse --verify -q HEAD || echo "git: no repository here (the working tree was copied; see the commit that added these results)"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader
/usr/local/cuda/bin/nvcc --version | tail -2
grep -E '#define NCCL_(MAJOR|MINOR|PATCH) ' /usr/include/nccl.h | awk '{printf "%s=%s ", $2, $3} END {print ""}'

if [ -n "${PREBUILT:-}" ]; then
  echo "== prebuilt binaries from $PREBUILT"
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

echo "== SASS: tensor-core instructions per expert GEMM kernel (HGMMA = wgmma, HMMA = mma.sync)"
cuobjdump --dump-sass "$ffn_obj" | awk '/Function :/ { f = $3 } /HGMMA/ { h[f]++ } / HMMA/ { m[f]++ }
  END { for (k in h) print "HGMMA", h[k], k; for (k in m) print "HMMA ", m[k], k }' | sort
cuobjdump --dump-sass "$ffn_obj" | awk '/Function :/ { f = $3 } /HGMMA/ { h[f]++ }
  END { for (k in h) if (k ~ /wgmma/) n++; exit n == 6 ? 0 : 1 }' || { echo "SASS check failed: want HGMMA in all 6 wgmma kernels"; status=1; }

echo "== GPU kernel tests"
filter='Gpu*'
"$tests_bin" --gtest_filter="$filter" || status=1

echo "== benchmark: sparse expert FFN"
"$bench_bin" --benchmark_filter="${BENCH_FILTER:-^ffn/}" --benchmark_out="$OUT/kernels-bench.json" --benchmark_out_format=json \
  --benchmark_counters_tabular=true || status=1

if [ -z "${SKIP_TORCH:-}" ]; then
  echo "== PyTorch grouped FFN path (same shapes)"
  PYTHONUNBUFFERED=1 python3 bench/gpu/bench_kernels_torch.py "$OUT/kernels-torch.json" || status=1
  if [ -f .gpu/torch_baseline.py ]; then
    echo "== torch_baseline.py (dense / grouped GEMM, copy)"
    mkdir -p "$OUT/torch_baseline"
    # One visible GPU: its GEMM and copy numbers only (the all-to-all belongs to the backend's job).
    CUDA_VISIBLE_DEVICES=0 OUT="$OUT/torch_baseline" PYTHONUNBUFFERED=1 python3 .gpu/torch_baseline.py >/dev/null || status=1
  fi
fi

echo "== table"
python3 - "$OUT" <<'PY' || status=1
import json, os, sys
out = sys.argv[1]
bench = json.load(open(f"{out}/kernels-bench.json"))
rows = {}
for b in bench["benchmarks"]:
    if not b["name"].startswith("ffn/"):
        continue
    _, shape, rpe, mode, path = b["name"].split("/")[:5]  # Google Benchmark appends /min_time:..
    rows.setdefault((shape, int(rpe.split(":")[1]), mode), {})[path] = (b["real_time"], b["TFLOPs"] / 1e0)
torch = {}
if os.path.exists(f"{out}/kernels-torch.json"):
    for r in json.load(open(f"{out}/kernels-torch.json"))["results"]:
        torch[(r["shape"], r["rows_per_expert"], "standard" if r["slots"] == 1 else "occult4")] = (r["us"], r["tflops"])
lines = ["| shape | rows/expert | mode | ours TFLOP/s (us) | cuBLAS per-expert | torch grouped_mm path | cuBLAS dense same FLOPs | ours / best library |",
         "|---|---|---|---|---|---|---|---|"]
fmt = lambda v: f"{v[1]:.0f} ({v[0]:.0f})" if v else "-"
for key in sorted(rows, key=lambda k: (["olmoe", "qwen15", "dsv3"].index(k[0]), k[2], k[1])):
    r = rows[key]
    ours, lib, dense, tg = r.get("ours"), r.get("cublas_per_expert"), r.get("cublas_dense"), torch.get(key)
    best = max([v[1] for v in (lib, tg) if v] or [0])
    ratio = f"{ours[1] / best:.2f}x" if ours and best else "-"
    lines.append(f"| {key[0]} | {key[1]} | {key[2]} | {fmt(ours)} | {fmt(lib)} | {fmt(tg)} | {fmt(dense)} | {ratio} |")
tb = f"{out}/torch_baseline/gemm.json"
if os.path.exists(tb):
    g = json.load(open(tb))
    lines.append("")
    lines.append("torch_baseline.py, same job: dense bf16 GEMM up to %.0f TFLOP/s; torch._grouped_mm %s TFLOP/s; copy %.2f TB/s" % (
        max(x["tflops"] for x in g["gemm"]), ", ".join(f"{x['tflops']:.0f}" for x in g["grouped"] if "tflops" in x), g["copy_TBps"]))
kernels = ["ours_mma128", "ours_mma256", "ours_wgmma128", "ours_wgmma256", "ours"]
lines += ["", "GEMM kernels forced (same run), TFLOP/s end to end; `auto` is the choice expert_ffn_forward makes:", "",
          "| shape | rows/expert | mode | mma.sync 128 | mma.sync 256 | wgmma 128 | wgmma 256 | auto |", "|---|---|---|---|---|---|---|---|"]
for key in sorted(rows, key=lambda k: (["olmoe", "qwen15", "dsv3"].index(k[0]), k[2], k[1])):
    r = rows[key]
    lines.append(f"| {key[0]} | {key[1]} | {key[2]} | " + " | ".join(f"{r[k][1]:.0f}" if k in r else "-" for k in kernels) + " |")
open(f"{out}/kernels-table.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
# Last, so that a slow sanitizer run cannot cost the numbers.
if [ -z "${SKIP_SANITIZER:-}" ]; then
  echo "== compute-sanitizer memcheck (layer at model shapes, expert FFN: every GEMM kernel and epilogue, cuBLAS path, backward)"
  compute-sanitizer --tool memcheck --error-exitcode 3 "$tests_bin" \
    --gtest_filter='GpuLayer.ModelShapes:GpuExpertFfn.*:GpuUnpack.*' 2>&1 | tail -15 || status=1
  echo "== compute-sanitizer racecheck (expert FFN: every GEMM kernel and epilogue)"
  compute-sanitizer --tool racecheck --error-exitcode 3 "$tests_bin" \
    --gtest_filter='GpuExpertFfn.MatchesCublasPath' 2>&1 | tail -6 || status=1
fi

echo "== done (status $status)"
exit $status
