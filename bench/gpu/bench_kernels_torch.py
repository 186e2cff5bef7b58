"""The PyTorch grouped path of the sparse expert FFN, at the shapes of bench_kernels.cu, measured in
the same job: index_select gather, torch._grouped_mm for gate, up and down, SwiGLU, weighted
index_add_ scatter. Same routing as the C++ benchmark (8 local experts, rows shuffled, each expert
exactly rows_per_expert pairs; occult4: each row read by 4 experts). Writes JSON to argv[1]."""
import json
import sys

import torch

L = 8
SHAPES = [("olmoe", 2048, 1024), ("qwen15", 2048, 1408), ("dsv3", 7168, 2048)]


def problem(h, f, rpe, slots):
    pairs = L * rpe
    rows = pairs // slots
    r = torch.arange(rows, dtype=torch.int64)
    perm = (r * 2654435761) % rows
    ex = torch.stack([(perm + j * (L // slots)) % L for j in range(slots)], 1).reshape(-1)
    row_of = torch.arange(rows).repeat_interleave(slots)
    order = torch.argsort(ex, stable=True)
    offs = torch.arange(rpe, pairs + 1, rpe, dtype=torch.int32)
    g = torch.Generator(device="cuda").manual_seed(0)
    x = (torch.rand(rows, h, device="cuda", generator=g) * 2 - 1).bfloat16()
    w = [((torch.rand(L, f, h, device="cuda", generator=g) * 2 - 1) * 0.05).bfloat16() for _ in range(2)]
    wd = ((torch.rand(L, h, f, device="cuda", generator=g) * 2 - 1) * 0.05).bfloat16()
    return dict(x=x, wg=w[0], wu=w[1], wd=wd, row=row_of[order].cuda(), weight=torch.full((pairs,), 1.0 / slots, device="cuda"),
                offs=offs.cuda(), rows=rows)


def ffn(p):
    xp = p["x"].index_select(0, p["row"])
    g = torch._grouped_mm(xp, p["wg"].transpose(-2, -1), offs=p["offs"])
    u = torch._grouped_mm(xp, p["wu"].transpose(-2, -1), offs=p["offs"])
    a = torch.nn.functional.silu(g) * u
    y = torch._grouped_mm(a, p["wd"].transpose(-2, -1), offs=p["offs"])
    out = torch.zeros(p["rows"], y.shape[1], dtype=torch.float32, device="cuda")
    out.index_add_(0, p["row"], y.float() * p["weight"][:, None])
    return out.bfloat16()


def timed(fn, reps):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    s, e = torch.cuda.Event(True), torch.cuda.Event(True)
    s.record()
    for _ in range(reps):
        fn()
    e.record()
    torch.cuda.synchronize()
    return s.elapsed_time(e) / reps * 1e3  # us


def main():
    res = []
    for name, h, f in SHAPES:
        for rpe in (64, 256, 1024, 4096):
            for slots in (1, 4):
                p = problem(h, f, rpe, slots)
                us = timed(lambda: ffn(p), 5 if rpe >= 1024 else 20)
                flops = 6.0 * h * f * L * rpe
                res.append(dict(shape=name, hidden=h, ffn=f, experts=L, rows_per_expert=rpe, slots=slots, us=us, tflops=flops / us / 1e6))
                print(res[-1], flush=True)
                del p
                torch.cuda.empty_cache()
    json.dump(dict(torch=torch.__version__, device=torch.cuda.get_device_name(), results=res), open(sys.argv[1], "w"), indent=1)


if __name__ == "__main__":
    main()
