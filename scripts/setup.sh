#!/usr/bin/env bash
# Installs the Debian packages occult needs. Idempotent and quiet: does nothing when all are present.
set -euo pipefail
pkgs=(build-essential cmake ninja-build pkg-config ccache clang libclang-rt-14-dev
      libsimgrid-dev libboost-graph-dev libcli11-dev libbenchmark-dev libgtest-dev libmetis-dev
      nlohmann-json3-dev libtomlplusplus-dev gnuplot-nox python3)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
