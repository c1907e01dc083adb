#!/bin/sh
# Builds the libFuzzer target on the safetensors reader with AddressSanitizer and
# UndefinedBehaviorSanitizer (Debian's clang) and runs it from the committed
# corpus; new interesting inputs are merged back into fuzz/corpus.
#   scripts/fuzz.sh [SECONDS]      (default 600)
set -eu
cd "$(dirname "$0")/.."
seconds="${1:-600}"
command -v clang++ >/dev/null 2>&1 || apt-get install -y --no-install-recommends clang
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -Iinclude -I/usr/include/eigen3 fuzz/fuzz_safetensors.cpp src/io/safetensors.cpp \
  src/io/files.cpp src/core/error.cpp -lfmt -o "$work/fuzz_safetensors"
mkdir -p "$work/corpus"
cp fuzz/corpus/* "$work/corpus/"
"$work/fuzz_safetensors" -max_total_time="$seconds" -max_len=4096 -dict=fuzz/safetensors.dict \
  "$work/corpus" tests/data/reference
# Keep only the inputs that add coverage.
mkdir -p "$work/merged"
"$work/fuzz_safetensors" -merge=1 -max_len=4096 "$work/merged" "$work/corpus" >/dev/null 2>&1
rm -f fuzz/corpus/*
cp "$work/merged"/* fuzz/corpus/
echo "fuzz/corpus: $(ls fuzz/corpus | wc -l) inputs"
