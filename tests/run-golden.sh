#!/usr/bin/env bash
# run-golden.sh check|update NETSHAPE CASE_DIR
# Runs NETSHAPE with the arguments in CASE_DIR/args (one per line) from the
# current directory (the source tree), colour off, and compares stdout, stderr
# and the exit code with CASE_DIR/{stdout,stderr,code} — or rewrites them.
set -u
mode=$1 bin=$2 dir=$3
mapfile -t args < "$dir/args"
out=$(mktemp) err=$(mktemp) gen=$(mktemp)
trap 'rm -f "$out" "$err" "$gen"' EXIT
# A case with `gen` makes its input at run time (too large to commit); the
# argument @GEN@ names it, and its temporary path reads @GEN@ in the output.
if [ -f "$dir/gen" ]; then
  bash "$dir/gen" > "$gen"
  args=("${args[@]/@GEN@/$gen}")
fi
stdin=/dev/null
[ -f "$dir/stdin" ] && stdin="$dir/stdin"
NO_COLOR=1 "$bin" "${args[@]}" < "$stdin" > "$out" 2> "$err"
code=$?
if [ -f "$dir/gen" ]; then
  sed -i "s|$gen|@GEN@|g" "$out" "$err"
fi
if [ "$mode" = update ]; then
  cp "$out" "$dir/stdout"; cp "$err" "$dir/stderr"; echo "$code" > "$dir/code"
  exit 0
fi
fail=0
if [ "$code" != "$(cat "$dir/code")" ]; then
  echo "exit code: expected $(cat "$dir/code"), got $code"; fail=1
fi
diff -u --label expected/stdout --label actual/stdout "$dir/stdout" "$out" || fail=1
diff -u --label expected/stderr --label actual/stderr "$dir/stderr" "$err" || fail=1
exit $fail
