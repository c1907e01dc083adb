#!/usr/bin/env bash
# Runs clang-tidy (Debian's clang-tidy-14) with the checks of .clang-tidy over the
# project's own sources: the library, the command and the Python module
# (src/**/*.cpp, python/*.cpp). Exits non-zero on any finding
# (docs/reliability.md, "Static analysis: clang-tidy").
#
#   scripts/tidy.sh [REGEX]   only the sources whose path matches REGEX
#
# It configures build-tidy/ for its compile commands only (nothing is built);
# the precompiled headers are off there, as their flags are GCC's.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v run-clang-tidy-14 >/dev/null || ! command -v clang-tidy-14 >/dev/null; then
  echo "tidy.sh: needs clang-tidy-14 and run-clang-tidy-14 (Debian's clang-tidy-14)" >&2
  exit 2
fi

cmake -S . -B build-tidy -DCMAKE_BUILD_TYPE=Release -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DRNNSCOPE_PCH=OFF \
  -DRNNSCOPE_TESTS=OFF -DRNNSCOPE_BENCH=OFF >/dev/null

# The sources of the compile commands under src/ and python/ (the tests, the
# benchmarks and the fuzz targets are not in build-tidy's commands).
# -Wno-unknown-warning-option: GCC's warning flags (-Wno-restrict) are not clang's.
run-clang-tidy-14 -clang-tidy-binary "$(command -v clang-tidy-14)" -p build-tidy -j 2 -quiet \
  -extra-arg=-Wno-unknown-warning-option "${1:-$PWD/(src|python)/}"
