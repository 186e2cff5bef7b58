# Lead's post-review benchmark: occult dispatch/combine at 128 and 32768 tokens, NCCL vs P2P, mpirun.
set -uo pipefail
export NCCL_NVLS_ENABLE=0 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
B=build-gpu
cmake -S . -B $B -G Ninja -DCMAKE_BUILD_TYPE=Release -DOCCULT_SIMGRID=OFF -DOCCULT_BENCH=ON >$OUT/configure.log 2>&1 || { tail -20 $OUT/configure.log; exit 1; }
cmake --build $B -j 32 --target occult occult_gpu_tests >$OUT/build.log 2>&1 || { grep -E "error|FAILED" $OUT/build.log | head -30; exit 1; }
timeout 200 $B/tests/occult_gpu_tests --gtest_filter='P2p*:*Transports*:*CommunicatorModes*:BackendLayer*' >$OUT/tests.log 2>&1; echo "backend gpu tests rc=$?"; grep -E "^\[  (PASSED|FAILED)" $OUT/tests.log
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
