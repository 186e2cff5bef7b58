# Session 4 check on 2x H200 of main 7525634 (no GPU code changed since 80deb95's run; sim/core, which the
# backend links, did): build, every GPU test, the mpirun p2p layer, occult all-to-all NCCL vs P2P, one FFN shape.
# With one GPU (ONE_GPU=1) the two-rank runs are left out.
set -uo pipefail
export NCCL_NVLS_ENABLE=0 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
B=build-gpu
date -u +%FT%TZ; git log -1 --format='%h %s' 2>/dev/null | cut -c1-80; nvidia-smi --query-gpu=name --format=csv,noheader
cmake -S . -B $B -G Ninja -DCMAKE_BUILD_TYPE=Release -DOCCULT_SIMGRID=OFF -DOCCULT_BENCH=ON >$OUT/configure.log 2>&1 || { tail -20 $OUT/configure.log; exit 1; }
cmake --build $B -j 32 --target occult occult_gpu_tests occult_bench_gpu >$OUT/build.log 2>&1 || { grep -E "error|FAILED" $OUT/build.log | head -30; exit 1; }
grep -ciE "warning" $OUT/build.log | sed 's/^/build warnings: /'
date -u +%FT%TZ
timeout 280 $B/tests/occult_gpu_tests >$OUT/gpu-tests.log 2>&1; echo "all gpu tests rc=$?"
grep -E "^\[  (PASSED|FAILED|SKIPPED) |FAILED  \]" $OUT/gpu-tests.log | tail -20
if [ -z "${ONE_GPU:-}" ]; then
timeout 90 mpirun -np 2 --bind-to none $B/occult gpu-run --model olmoe-1b-7b --tokens 4096 --train --iters 5 --transport p2p --json >$OUT/mpi-p2p.json 2>$OUT/mpi-p2p.err; echo "mpirun p2p layer rc=$?"
python3 -c "import json; j=json.load(open('$OUT/mpi-p2p.json')); print('pass', j['pass'], [(s['strategy'], round(s['phases_us']['dispatch'],1)) for s in j['strategies']])" 2>&1 | tail -2
for t in 128 32768; do for tr in nccl p2p; do
  it=$([ $t = 128 ] && echo 50 || echo 10)
  timeout 90 mpirun -np 2 --bind-to none $B/occult gpu-run --model deepseek-v3 --tokens $t --comm-only --iters $it --transport $tr --json >$OUT/a2a-$t-$tr.json 2>$OUT/a2a-$t-$tr.err; echo "$t $tr rc=$?"
done; done
python3 - <<'PY'
import json,glob,os
for f in sorted(glob.glob(os.environ['OUT']+'/a2a-*.json')):
  j=json.load(open(f)); o=[s for s in j['strategies'] if s['strategy']=='occult'][0]
  print(os.path.basename(f), 'occult dispatch us', round(o['phases_us']['dispatch'],1), 'combine us', round(o['phases_us']['combine'],1), 'dispatch GB/s', round(o['wire_GBps']['dispatch'],1), 'pass', j['pass'])
PY
fi
timeout 120 $B/bench/occult_bench_gpu --benchmark_filter='^ffn/dsv3/' --benchmark_counters_tabular=true >$OUT/ffn.txt 2>&1; echo "ffn bench rc=$?"; grep -E "ffn/" $OUT/ffn.txt | head -12
date -u +%FT%TZ
