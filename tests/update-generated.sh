#!/usr/bin/env bash
# Regenerates what comes from the kind table (src/kinds.cc) with build/netshape:
# specs/schema.json, src/netshape_kinds.json, docs/spec-format.md's kinds table,
# and docs/cli.md. Read `git diff` before committing.
set -eu
cd "$(dirname "$0")/.."
bin=${NETSHAPE:-build/netshape}
"$bin" help kinds --format schema > specs/schema.json
"$bin" help kinds --format json > src/netshape_kinds.json
table=$("$bin" help kinds --format markdown)
python3 - "$table" <<'PY'
import pathlib, sys
p = pathlib.Path("docs/spec-format.md")
s = p.read_text()
a, b = s.index("<!-- kinds:begin -->\n") + len("<!-- kinds:begin -->\n"), s.index("<!-- kinds:end -->")
p.write_text(s[:a] + sys.argv[1].rstrip("\n") + "\n" + s[b:])
PY
bash tests/gen-cli-md.sh "$bin" > docs/cli.md
git status --short specs/schema.json src/netshape_kinds.json docs/spec-format.md docs/cli.md
