#!/usr/bin/env bash
# Regenerates every golden case (or the ones named) from build/netshape.
# Read the resulting `git diff` line by line before committing it: a golden
# file is only as right as the person who checked it.
set -eu
cd "$(dirname "$0")/.."
bin=${NETSHAPE:-build/netshape}
cases=("$@")
[ ${#cases[@]} -eq 0 ] && cases=($(ls tests/golden))
for c in "${cases[@]}"; do bash tests/run-golden.sh update "$bin" "tests/golden/$c"; done
git status --short tests/golden
