#!/usr/bin/env python3
"""Every diagnostic code the code can emit is documented in docs/diagnostics.md.

Codes are found in the sources as the first argument of `error(...)` /
`warning(...)` (also in a `cond ? "a" : "b"` choice), as `error[CODE]` /
`warning[CODE]` printed directly, and as the importer's ImportFailure codes.
Exit 1 listing the undocumented ones.

    tests/codes_test.py [ROOT]
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent.parent)
code = re.compile(r'"([a-z][a-z0-9]*(?:-[a-z0-9]+)*)"')
found = {}
for f in sorted((root / "src").glob("*")):
    if f.suffix not in (".cc", ".h", ".py"):
        continue
    text = f.read_text()
    for m in re.finditer(r'\b(?:error|warning)\(\s*(?:n,\s*)?([^,()]*?"[a-z][a-z0-9-]*"[^,()]*?),', text):
        for c in code.findall(m.group(1)):
            found.setdefault(c, f.name)
    for m in re.finditer(r'(?:error|warning)\[([a-z][a-z0-9-]*)\]', text):
        found.setdefault(m.group(1), f.name)
    for m in re.finditer(r'ImportFailure\(\s*"([a-z][a-z0-9-]*)"', text):
        found.setdefault(m.group(1), f.name)
docs = (root / "docs" / "diagnostics.md").read_text()
missing = sorted(c for c in found if f"`{c}`" not in docs and f"error[{c}]" not in docs and f"warning[{c}]" not in docs)
for c in missing:
    print(f"FAIL `{c}` (emitted in src/{found[c]}) is not in docs/diagnostics.md")
print(f"{len(found)} codes found in src/, {len(missing)} undocumented")
sys.exit(1 if missing or len(found) < 40 else 0)
