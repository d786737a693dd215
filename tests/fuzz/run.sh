#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS [extra libFuzzer flags]
# Builds the libFuzzer harness with clang (ASan + UBSan) in build-fuzz/ and runs
# it for SECONDS on a corpus seeded with specs/ and the broken-input catalogue.
# The growing corpus is kept in build-fuzz/corpus; crashes land in build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
shift || true
command -v clang++ >/dev/null || { echo "fuzz: clang++ is missing (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DNETSHAPE_FUZZ=ON -DNETSHAPE_TORCH=OFF >/dev/null
cmake --build build-fuzz --target fuzz_spec -j "$(nproc)"
seeds=build-fuzz/seeds
mkdir -p build-fuzz/corpus "$seeds"
cp specs/*.json specs/broken/*.json "$seeds"/
cp tests/catalogue/*.json "$seeds"/
cd build-fuzz
./fuzz_spec -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -dict=../tests/fuzz/spec.dict -print_final_stats=1 "$@" corpus seeds
