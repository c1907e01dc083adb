#!/usr/bin/env bash
# Installs what rnnscope needs from Debian's packages (only what is missing) and
# builds it in build/ (Release). Run as root, or with sudo available.
#
#   scripts/setup.sh           the library, the rnnscope command (with Open MPI:
#                              docs/distributed.md) and the Python
#                              module (build/python: docs/python.md)
#   scripts/setup.sh --tests   also the test suite and the benchmarks, with what
#                              the tests use (Chromium for the report's rendering
#                              test, pytest for the Python module's)
set -euo pipefail
cd "$(dirname "$0")/.."

tests=0
for arg in "$@"; do
  case "$arg" in
    --tests) tests=1 ;;
    *) echo "setup.sh: unknown option '$arg' (expected --tests)" >&2; exit 2 ;;
  esac
done

packages=(build-essential cmake libeigen3-dev libcli11-dev nlohmann-json3-dev libfmt-dev
          libgtest-dev libbenchmark-dev gnuplot-nox
          libopenblas-openmp-dev python3 python3-dev python3-pybind11 pybind11-dev python3-numpy
          libopenmpi-dev openmpi-bin)
((tests)) && packages+=(chromium python3-pytest)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Warnings are errors unless RNNSCOPE_WERROR=OFF is set.
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DRNNSCOPE_WERROR="${RNNSCOPE_WERROR:-ON}" >/dev/null
if ((tests)); then
  cmake --build build -j "$(nproc)"
else
  cmake --build build -j "$(nproc)" --target rnnscope rnnscope_python
fi
