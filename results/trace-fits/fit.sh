#!/usr/bin/env bash
# fit.sh E K TOKENS LAYERS "skews" "affinities" "groups": one line per grid point, with the "all" row's
# max/mean, CV, Zipf, top-10% pair share and lift of `occult trace stats` (README.md says how it was run).
# `occult` must be on PATH.
set -euo pipefail
mkdir -p /tmp/tr
for s in $5; do for a in $6; do for g in $7; do
  occult trace gen --experts $1 --top-k $2 --tokens $3 --layers $4 --skew $s --affinity $a --groups $g \
      --seed 1 -o /tmp/tr/fit.trace >/dev/null 2>&1
  echo "$s $a $g $(occult trace stats /tmp/tr/fit.trace | awk '$1=="all"{print $3,$4,$5,$7,$8}')"
done; done; done
