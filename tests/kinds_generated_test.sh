#!/usr/bin/env bash
# kinds_generated_test.sh NETSHAPE: what is generated from the kind table
# (src/kinds.cc) is current — specs/schema.json, the importer's map
# src/netshape_kinds.json, and the kinds table of docs/spec-format.md between
# its markers. Regenerate with tests/update-generated.sh, then read the diff.
set -u
bin=$1
fail=0
"$bin" help kinds --format schema | diff -u specs/schema.json - > /dev/null || { echo "FAIL specs/schema.json is stale"; fail=1; }
"$bin" help kinds --format json | diff -u src/netshape_kinds.json - > /dev/null || { echo "FAIL src/netshape_kinds.json is stale"; fail=1; }
table=$(sed -n '/^<!-- kinds:begin -->$/,/^<!-- kinds:end -->$/p' docs/spec-format.md | sed '1d;$d')
[ "$table" = "$("$bin" help kinds --format markdown | sed '$!b' )" ] || { echo "FAIL docs/spec-format.md's kinds table is stale"; fail=1; }
[ $fail = 0 ] && echo "ok   schema, importer map and docs table are current"
exit $fail
