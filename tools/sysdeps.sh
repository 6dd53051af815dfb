#!/usr/bin/env bash
# The Debian packages evloop's tests and benchmarks use, installed with
# apt-get when we are root and apt-get exists; otherwise it says what to
# install and exits 0: the tests that need a package then skip, naming it.
#
#   tools/sysdeps.sh          libevent-2.1-7 libevent-dev: the real libevent
#                             2.1 the differential tests load with ctypes
#                             (tests/core/libevent_ctypes.py) and the C
#                             programs of bench/ link against
#   tools/sysdeps.sh --bench  the same plus wrk, the HTTP load generator of
#                             bench/aiohttp_wrk.py
set -euo pipefail
pkgs=(libevent-2.1-7 libevent-dev)
[ "${1:-}" = "--bench" ] && pkgs+=(wrk)

missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "sysdeps: already installed: ${pkgs[*]}"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
  echo "sysdeps: NOT installing ${missing[*]} (needs root and apt-get);"
  echo "sysdeps: install them yourself, or the tests that need them skip with that reason"
  exit 0
fi
echo "sysdeps: installing with apt-get: ${missing[*]}"
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
  echo "sysdeps: apt-get failed; the tests that need ${missing[*]} will skip" >&2
fi
