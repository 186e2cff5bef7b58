#!/usr/bin/env python3
"""Tables of table.md from run.sh's output folder."""
import collections
import statistics as st
import sys

out = sys.argv[1]
CASES = [("qwen", "2"), ("qwen", "4"), ("qwen", "8"), ("mixtral_he", "2"), ("mixtral_he", "4")]
NAMES = {"qwen": "Qwen", "mixtral_he": "Mixtral"}


def load(name, key_len):
    g = collections.defaultdict(list)
    with open(f"{out}/{name}") as f:
        for line in f:
            p = line.split()
            g[tuple(p[:key_len])].append(tuple(map(float, p[key_len + 1:])))
    return g


# 1. selection on the profiles: mean over (F, case) of each option set's score relative to the mean of
# all option sets on that (F, case), so that every case weighs alike.
cv = load("profcv.txt", 5)
opts = sorted({k[3:] for k in cv}, key=lambda o: (int(o[0]), o[1]))
cells = sorted({k[:3] for k in cv})
base = {c: st.mean(st.mean(x[0] for x in cv[c + o]) for o in opts) for c in cells}
rank = sorted((st.mean(st.mean(x[0] for x in cv[c + o]) / base[c] for c in cells), o) for o in opts)
print("## Selection on the profiles (profile-only cross-validation)\n")
print("| rank | --restarts | --recent-weight | mean relative validation ct_occult |")
print("|---|---|---|---|")
for i, (score, o) in enumerate(rank):
    print(f"| {i + 1} | {o[0]} | {o[1]} | {score:.5f} |")
chosen = rank[0][1]

# 2. test on the holdout, means over seeds.
ho = load("holdout.txt", 4)
def row(o):
    return [st.mean(x[0] for x in ho[c + o]) for c in CASES]
print(f"\n## Holdout (second half), mean of seeds 1-5; chosen: --restarts {chosen[0]} --recent-weight {chosen[1]}\n")
print("| --restarts | --recent-weight | " + " | ".join(f"{NAMES[t]} D={d}" for t, d in CASES) + " | sum |")
print("|---|---|" + "---|" * (len(CASES) + 1))
for _, o in sorted((sum(row(o)), o) for o in opts):
    mark = " **(default)**" if o == chosen else (" (old default)" if o == ("2", "1") else "")
    print(f"| {o[0]} | {o[1]}{mark} | " + " | ".join(f"{v:.4f}" for v in row(o)) + f" | {sum(row(o)):.4f} |")

print("\n## Generalisation gap of the default (means of seeds 1-5)\n")
print("| case | ct_occult on the profile (in-sample) | holdout | in-sample optimum of the holdout | gap |")
print("|---|---|---|---|---|")
for c in CASES:
    xs = ho[c + chosen]
    h, p, opt = (st.mean(x[i] for x in xs) for i in range(3))
    print(f"| {NAMES[c[0]]} D={c[1]} | {p:.4f} | {h:.4f} | {opt:.4f} | {100 * (h / opt - 1):.1f}% |")

sh = load("shuffled.txt", 4)
print("\n## Qwen with its tokens shuffled (no drift), --restarts 8, means of seeds 1-3\n")
print("| D | --recent-weight | holdout | in-sample optimum of the holdout | gap |")
print("|---|---|---|---|---|")
for k in sorted(sh):
    h, p, opt = (st.mean(x[i] for x in sh[k]) for i in range(3))
    print(f"| {k[1]} | {k[3]} | {h:.4f} | {opt:.4f} | {100 * (h / opt - 1):.1f}% |")
