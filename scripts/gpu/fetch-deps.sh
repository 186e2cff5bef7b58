#!/usr/bin/env bash
# Run HERE (not on the GPU machine): downloads the Debian packages the GPU build needs but the GPU
# machine lacks (it has no network) and extracts them into .deps/ (git-ignored). Name .deps in the
# device tool's `carry`; CMake picks it up automatically (cmake/Dependencies.cmake).
set -euo pipefail
cd "$(dirname "$0")/../.."
pkgs=(libcli11-dev nlohmann-json3-dev libtomlplusplus-dev libgtest-dev googletest libbenchmark-dev libbenchmark1debian)
rm -rf .deps && mkdir -p .deps/debs
(cd .deps/debs && apt-get download "${pkgs[@]}" >/dev/null)
for f in .deps/debs/*.deb; do dpkg-deb -x "$f" .deps; done
rm -rf .deps/debs .deps/usr/share/doc .deps/usr/share/man
du -sh .deps
