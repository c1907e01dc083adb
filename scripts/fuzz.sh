#!/bin/sh
# Builds a libFuzzer target with the library under AddressSanitizer and
# UndefinedBehaviorSanitizer (Debian's clang) and runs it from its committed
# corpus; new interesting inputs are merged back into the corpus.
#   scripts/fuzz.sh [TARGET [SECONDS]]
# TARGET: safetensors (default; the reader and the checkpoint reader),
# model_file (file to a working cell stack) or runs_csv (a study's runs.csv and
# blocks.csv). SECONDS: default 600. The library's objects are kept in
# build-fuzz/ between runs.
set -eu
cd "$(dirname "$0")/.."
target="${1:-safetensors}"
seconds="${2:-600}"
case "$target" in
  safetensors) corpus=fuzz/corpus; extra="tests/data/reference"; options="-max_len=4096 -dict=fuzz/safetensors.dict" ;;
  model_file) corpus=fuzz/corpus_model_file; extra=""; options="-max_len=8192 -dict=fuzz/safetensors.dict" ;;
  runs_csv) corpus=fuzz/corpus_runs_csv; extra=""; options="-max_len=4096" ;;
  *) echo "scripts/fuzz.sh: unknown target '$target' (safetensors, model_file or runs_csv)" >&2; exit 2 ;;
esac
command -v clang++ >/dev/null 2>&1 || apt-get install -y --no-install-recommends clang
version="$(sed -n 's/^project(rnnscope VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)"
flags="-std=c++20 -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all"
flags="$flags -DEIGEN_DONT_PARALLELIZE -DRNNSCOPE_VERSION=\"$version\" -Iinclude -isystem /usr/include/eigen3"
export flags
objects=build-fuzz/objects
mkdir -p "$objects"
# The library without the command line or the processes (only what a reader reaches is
# fuzzed, but the readers call into the cells, the studies' specs and the trainer).
for src in src/core/*.cpp src/activations/*.cpp src/cells/*.cpp src/sequence/*.cpp src/diagnostics/*.cpp \
           src/training/*.cpp src/studies/*.cpp src/io/*.cpp src/report/*.cpp; do
  obj="$objects/$(echo "$src" | tr / _).o"
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find include -newer "$obj" -name '*.hpp' | head -1)" ]; then
    echo "$src $obj"
  fi
done | xargs -r -P "$(nproc)" -n 2 sh -c 'clang++ $flags -c "$0" -o "$1"'
clang++ $flags -fsanitize=fuzzer "fuzz/fuzz_$target.cpp" "$objects"/*.o -lfmt -o "build-fuzz/fuzz_$target"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$corpus"
cp "$corpus"/* "$work/corpus/" 2>/dev/null || true
# shellcheck disable=SC2086
"build-fuzz/fuzz_$target" -max_total_time="$seconds" $options "$work/corpus" $extra
# Keep only the inputs that add coverage, and every regression_* input (the crashes
# found before, which the suite replays by name) whether it adds coverage or not.
mkdir -p "$work/merged"
# shellcheck disable=SC2086
"build-fuzz/fuzz_$target" -merge=1 $options "$work/merged" "$work/corpus" >/dev/null 2>&1
find "$corpus" -maxdepth 1 -type f ! -name 'regression_*' -delete
cp "$work/merged"/* "$corpus/"
echo "$corpus: $(ls "$corpus" | wc -l) inputs"
