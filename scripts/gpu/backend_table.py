#!/usr/bin/env python3
"""Side-by-side tables from one backend.sh run: python3 backend_table.py DIR [--runs-json FILE] > summary.md.

DIR holds the gpu-run JSON documents (a2a-*.json, layer-*.json; run records, docs/formats/gpu-run.md),
torch/ (torch_baseline.py output) and profile.json (occult calibrate). Every number printed comes from
those files."""
import glob, json, os, sys

d = sys.argv[1]
runs_json = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--runs-json" else None


def load(p):
    try:
        with open(p) as f:
            return json.load(f)
    except Exception as e:  # a failed run leaves an empty or partial file: say so, keep going
        print(f"<!-- {os.path.basename(p)}: {e} -->")
        return None


def flat(j):
    """A run record's fields under the names the tables read (record version 2 nests them)."""
    if j and j.get("version") == 2:
        w, x = j["workload"], j["execution"]
        j = dict(j, path=x["path"], bootstrap=x["bootstrap"], transport=x["transport"], p2p=x.get("p2p", {}),
                 nccl_mode=x["nccl_mode"], counts=x["counts"], tokens_per_gpu=w["tokens_per_device"])
    return j


def strat(j, name):
    for s in j.get("strategies", []):
        if s["strategy"] == name:
            return s
    return None


def wire(x, key):
    """Remote bytes of the dispatch (a one-GPU run sends none: no entry)."""
    return x.get("wire_bytes", {}).get("dispatch", {}).get(key, 0)


def f1(x):
    return "-" if x is None else f"{x:.1f}"


def f2(x):
    return "-" if x is None else f"{x:.2f}"


def mb(b):
    return f"{b / 1e6:.2f}"


def variant(j):
    """Row label: the path and whatever differs from the defaults (threads, NCCL transport, blocking NCCL, fused counts)."""
    p2p = j.get("transport") == "p2p"
    return (j["path"] + (" (mpirun)" if j.get("bootstrap") == "mpi" else "")
            + ((" (p2p, " + j["p2p"]["copy"] + " copy" + (f", {j['p2p']['blocks']} blocks" if j["p2p"].get("blocks") else "") + ")") if p2p else "")
            + (" (NCCL non-blocking)" if j.get("nccl_mode") == "nonblocking" else "")
            + (" (counts sync)" if j.get("counts") == "sync" else ""))


runs = {os.path.basename(p)[:-5]: load(p) for p in sorted(glob.glob(os.path.join(d, "*.json")))}
runs = {k: v for k, v in runs.items() if v and "strategies" in v}
records = runs
runs = {k: flat(v) for k, v in runs.items()}
if runs_json:  # every run's document, plus the PyTorch baseline, in one file for results/gpu/
    extra = {}
    for f in ("env", "gemm", "a2a"):
        p = os.path.join(d, "torch", f + ".json")
        if os.path.exists(p):
            extra[f] = load(p)
    with open(runs_json, "w") as f:
        json.dump({"format": "occult-gpu-runs", "runs": records, "torch_baseline": extra}, f, indent=1,
                  sort_keys=True)
any_run = next(iter(runs.values()), None)
if any_run:
    p = any_run["provenance"]
    print(f"# occult GPU backend on {p['gpu_count']}x {p['gpu_name']}\n")
    print(f"driver {p['driver']}, CUDA {p['cuda']}, NCCL {p['nccl']}, {p['date']}, host {p['host']}.  ")
    print("Produced by `bash scripts/gpu/backend.sh` (each row's exact command is in its JSON, field provenance.command).")
    print("Times: median over iterations, slowest rank. Bytes: remote bytes sent per rank (what crosses NVLink / PCIe / socket).\n")

print("## Dispatch + combine (--comm-only), DeepSeek-V3 width h=7168, 256 experts, top-8, 2 GPUs\n")
print("The transport moves the layer's all-to-alls (NCCL, or the direct P2P path); the plain all-to-all is always NCCL.\n")
print("| path | tokens/GPU | standard MB | occult MB | std dispatch us | occult dispatch us | plain NCCL us | std combine us | occult combine us | plain combine us | occult GB/s (its bytes) | plain GB/s | occult/std dispatch+combine | occult pack+dispatch us |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for name, j in sorted(runs.items(), key=lambda kv: (kv[1]["path"], kv[1]["tokens_per_gpu"], kv[0])):
    if not name.startswith("a2a-"):
        continue
    s, o, pl = strat(j, "standard"), strat(j, "occult"), j.get("plain_nccl")
    if not (s and o):
        continue
    sb = wire(s, "rows") + wire(s, "meta")
    ob = wire(o, "rows") + wire(o, "meta")
    sd, od = s["phases_us"]["dispatch"], o["phases_us"]["dispatch"]
    sc, oc = s["phases_us"]["combine"], o["phases_us"]["combine"]
    label = variant(j)
    print(f"| {label} | {j['tokens_per_gpu']} | {mb(sb)} | {mb(ob)} | {f1(sd)} | {f1(od)} | {f1(pl and pl['dispatch_us'])} | "
          f"{f1(sc)} | {f1(oc)} | {f1(pl and pl['combine_us'])} | {f1(o['wire_GBps']['dispatch'])} | "
          f"{f1(pl and pl['dispatch_GBps'])} | {f2((od + oc) / (sd + sc))} | {f1(od + o['phases_us']['pack'])} |")

print("\n## Whole layer, OLMoE shape (64 experts, top-8, h=2048, f=1024), 2 GPUs, training (forward + backward)\n")
print("Communication = dispatch + combine + their two backward mirrors (the four all-to-alls of a training step).\n")
print("| path | tokens/GPU | std fwd us | occult fwd us | fwd speedup | std bwd us | occult bwd us | std train us | occult train us | train speedup | std comm us | occult comm us | comm speedup | std dispatch MB | occult dispatch MB | check (max rel err) |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for name, j in sorted(runs.items(), key=lambda kv: (kv[1]["path"], kv[1]["tokens_per_gpu"], kv[0])):
    if not name.startswith(("layer-", "scenario-")):
        continue
    s, o = strat(j, "standard"), strat(j, "occult")
    if not (s and o):
        continue
    st, ot = s["forward_us"] + s.get("backward_us", 0), o["forward_us"] + o.get("backward_us", 0)
    err = max(max(x["check"]["y_rel_err"], x["check"]["dx_rel_err"], x["check"]["dw_rel_err"]) for x in (s, o))
    label = variant(j) + (f" scenario {name[9:]}" if name.startswith("scenario-") else "")
    comm = lambda x: sum(x["phases_us"].get(k, 0) for k in ("dispatch", "combine", "grad_dispatch", "grad_combine"))
    sm, om = comm(s), comm(o)
    print(f"| {label} | {j['tokens_per_gpu']} | {f1(s['forward_us'])} | {f1(o['forward_us'])} | {f2(s['forward_us'] / o['forward_us'])} | "
          f"{f1(s.get('backward_us'))} | {f1(o.get('backward_us'))} | {f1(st)} | {f1(ot)} | {f2(st / ot)} | "
          f"{f1(sm)} | {f1(om)} | {f2(sm / om)} | "
          f"{mb(wire(s, 'rows'))} | {mb(wire(o, 'rows'))} | {err:.1e} {'PASS' if j['pass'] else 'FAIL'} |")

print("\n## Per-phase times (us, standard / occult)\n")
print("counts is the separate count exchange (0 where the counts travel with the dispatch).\n")
for name, j in sorted(runs.items()):
    if not name.startswith(("layer-", "a2a-", "scenario-")):
        continue
    s, o = strat(j, "standard"), strat(j, "occult")
    if not (s and o):
        continue
    fmt = "{:.1f}" if j["tokens_per_gpu"] <= 1024 else "{:.0f}"
    phases = " ".join(f"{k} {fmt.format(s['phases_us'][k])}/{fmt.format(o['phases_us'][k])}"
                      for k in s["phases_us"] if s["phases_us"][k] > 0 or o["phases_us"][k] > 0 or k == "counts")
    print(f"- {name} ({variant(j)}): {phases}")

t = os.path.join(d, "torch")
a2a = load(os.path.join(t, "a2a.json")) if os.path.exists(os.path.join(t, "a2a.json")) else None
gemm = load(os.path.join(t, "gemm.json")) if os.path.exists(os.path.join(t, "gemm.json")) else None
if a2a:
    print("\n## PyTorch baseline, same job: NCCL all_to_all_single over NVLink (torch_baseline.py)\n")
    print("| total MB | us | out of each rank GB/s |")
    print("|---|---|---|")
    for r in a2a:
        print(f"| {r['total_MB']} | {r['time_us']:.1f} | {r['per_rank_out_GBps']:.1f} |")
if gemm:
    print(f"\nPyTorch: device copy {gemm['copy_TBps']:.2f} TB/s; dense bf16 GEMM up to "
          f"{max(g['tflops'] for g in gemm['gemm']):.0f} TFLOP/s; grouped "
          + ", ".join(f"{g['tflops']:.0f}" for g in gemm['grouped'] if 'tflops' in g) + " TFLOP/s.")

prof = load(os.path.join(d, "profile.json")) if os.path.exists(os.path.join(d, "profile.json")) else None
if prof:
    print("\n## Calibration profile (occult calibrate, profile.json; docs/calibration.md)\n")
    print("| link class | transport | NCCL mode | floor us | at the largest size GB/s | nominal GB/s | per further message us |")
    print("|---|---|---|---|---|---|---|")
    for l in prof["links"]:
        big = l["samples"][-1]
        floor = min(x["seconds"] for x in l["samples"])
        msg = f"{l['message_s'] * 1e6:.1f}" if "message_s" in l else "-"
        print(f"| {l['class']} | {l['transport']} | {l['nccl_mode']} | {floor * 1e6:.1f} | "
              f"{big['bytes'] / (big['seconds'] - floor) / 1e9:.1f} | {l['nominal_GBps']:.1f} | {msg} |")
    print(f"\nDense cuBLAS ceiling {prof['peak_tflops']:.0f} TFLOP/s; {len(prof['expert_forward']['samples'])} expert "
          f"forward and {len(prof['expert_backward']['samples'])} backward samples; kernels: "
          + ", ".join(sorted(prof["kernels"])) + ".")
