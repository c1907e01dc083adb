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
#   scripts/setup.sh --sanitize
#                              the same in build-sanitize/ instead, under
#                              AddressSanitizer and UndefinedBehaviorSanitizer
#                              (-O1, assertions on, the first report fatal);
#                              with --tests, the whole suite:
#                              ctest --test-dir build-sanitize -j 2
#                              (docs/reliability.md, "Sanitizers")
set -euo pipefail
cd "$(dirname "$0")/.."

tests=0
sanitize=0
for arg in "$@"; do
  case "$arg" in
    --tests) tests=1 ;;
    --sanitize) sanitize=1 ;;
    *) echo "setup.sh: unknown option '$arg' (expected --tests or --sanitize)" >&2; exit 2 ;;
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
build=build
config=(-DCMAKE_BUILD_TYPE=Release)
if ((sanitize)); then
  # -O1: the suite runs several times faster than at -O0 under the sanitizers,
  # and the reports still name the lines (-g1). Debug keeps the assertions
  # (ours and Eigen's bounds checks) that Release compiles out.
  build=build-sanitize
  config=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1" -DRNNSCOPE_SANITIZE=ON)
fi
cmake -S . -B "$build" "${config[@]}" -DRNNSCOPE_WERROR="${RNNSCOPE_WERROR:-ON}" >/dev/null
if ((tests)); then
  cmake --build "$build" -j "$(nproc)"
else
  cmake --build "$build" -j "$(nproc)" --target rnnscope rnnscope_python
fi
