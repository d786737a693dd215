#!/usr/bin/env bash
# import-cli.sh NETSHAPE: `netshape import` trusts nothing it runs — the
# helper's exit, signal and output are checked before -o is written, the
# model's own prints never reach the spec, its source file is never the
# output — and names and shared weights come out as PyTorch has them.
# Expected numbers come from PyTorch itself (parameters(), named_modules()),
# computed here with python3. Every command runs under `timeout`.
set -u
bin=$(realpath "$1")
py=/usr/bin/python3
root=$(pwd)
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail=0
check() {  # check NAME EXPECTED_CODE ACTUAL_CODE
  if [ "$2" != "$3" ]; then echo "FAIL $1: exit $3, expected $2"; fail=1; else echo "ok   $1"; fi
}
says() {  # says NAME FILE TEXT
  grep -qF -- "$3" "$2" || { echo "FAIL $1: no \"$3\" in:"; cat "$2"; fail=1; }
}

# A helper that is not the helper: its exit, its death and its output are named.
printf '#!/bin/sh\nexit 5\n' > "$d/exit5"; printf '#!/bin/sh\nkill -9 $$\n' > "$d/killed"
printf '#!/bin/sh\nexit 1\n' > "$d/silent"; chmod +x "$d/exit5" "$d/killed" "$d/silent"
NETSHAPE_PYTHON=echo timeout 60 "$bin" import tests/import/loop.py:Net -o "$d/a.json" 2>"$d/err"
check "helper printing no spec (echo)" 2 $?
says "echo" "$d/err" "printed something that is not a spec"
[ ! -e "$d/a.json" ] || { echo "FAIL echo: -o was written"; fail=1; }
NETSHAPE_PYTHON="$d/exit5" timeout 60 "$bin" import tests/import/loop.py:Net 2>"$d/err"; check "helper exit 5" 2 $?
says "exit 5" "$d/err" "exited with 5 without saying why"
NETSHAPE_PYTHON="$d/killed" timeout 60 "$bin" import tests/import/loop.py:Net 2>"$d/err"; check "helper killed" 2 $?
says "killed" "$d/err" "was killed by signal 9"
NETSHAPE_PYTHON="$d/silent" timeout 60 "$bin" import tests/import/loop.py:Net 2>"$d/err"; check "helper exit 1, silent" 1 $?
says "silent" "$d/err" "exited with 1 without saying why"

timeout 60 "$bin" import tests/import/loop.py:Net --input '0,-3,,abc' 2>"$d/err"; check "--input 0,-3,,abc" 2 $?
says "--input" "$d/err" "is not a shape"

# The model's own conduct.
timeout 120 "$bin" import tests/import/exits.py:Net --input 1,4 -o "$d/b.json" 2>"$d/err"; check "sys.exit(0) while loading" 2 $?
says "sys.exit" "$d/err" "ended the process: sys.exit(0)"
[ ! -e "$d/b.json" ] || { echo "FAIL sys.exit: -o was written"; fail=1; }
timeout 120 "$bin" import tests/import/loop.py:Net --input 1,8 > "$d/loop.json" 2>"$d/err"; check "a model that prints" 0 $?
says "prints go to stderr" "$d/err" "loop.py: loading"
"$py" -c "import json,sys; json.load(open(sys.argv[1]))" "$d/loop.json" || { echo "FAIL prints: the spec is not JSON"; fail=1; }
cp tests/import/loop.py "$d/model.txt"
timeout 120 "$bin" import "$d/model.txt:Net" 2>"$d/err"; check "a .txt file" 2 $?
says ".txt" "$d/err" "is not a Python file"
cp tests/import/loop.py "$d/ok.py"
(cd "$d" && timeout 120 "$bin" import ok:Net --input 1,8 > ok.json 2>err); check "name:Class from the current folder" 0 $?
cp -r tests/import/pkg "$d/pkg"; cp "$d/pkg/model.py" "$d/model.orig"
(cd "$d" && timeout 120 "$bin" import pkg.model:Net --input 1,4 -o pkg/model.py 2>err); check "-o the module's own file" 2 $?
says "-o own file" "$d/err" "is the model's own source file"
cmp -s "$d/pkg/model.py" "$d/model.orig" || { echo "FAIL -o own file: the model's source changed"; fail=1; }

# Names as named_modules() gives them, and weights shared as PyTorch shares them.
"$bin" table "$d/loop.json" --format json > "$d/loop.table" 2>/dev/null
"$py" - "$d/loop.table" <<'EOF' || fail=1
import json, sys
names = [r["name"] for r in json.load(open(sys.argv[1]))["layers"]]
want = ["layers.0", "layers.1", "layers.2"]
if [n for n in names if n.startswith("layers.") and n.count(".") == 1 and n[7:].isdigit()] != want:
    sys.exit(f"FAIL ModuleList names: {names}")
print("ok   ModuleList walked in a loop keeps layers.0, layers.1, layers.2")
EOF
timeout 120 "$bin" import tests/import/recurrent.py:RRCNN --input 1,3,16,16 > "$d/r.json" 2>/dev/null; check "recurrent (shared) import" 0 $?
"$bin" table "$d/r.json" --format json > "$d/r.table" 2>/dev/null; check "recurrent spec is valid" 0 $?
(cd tests/import && "$py" - "$d/r.table" <<'EOF') || fail=1
import json, sys
import recurrent
m = recurrent.RRCNN()
t = json.load(open(sys.argv[1]))
params, buffers = sum(p.numel() for p in m.parameters()), sum(b.numel() for b in m.buffers())
if (t["params"], t["buffers"]) != (params, buffers):
    sys.exit(f"FAIL shared weights: netshape {t['params']} parameters, {t['buffers']} buffers; "
             f"PyTorch {params}, {buffers}")
missing = set(n for n, _ in m.named_modules() if n) - set(t["modules"])
if missing:
    sys.exit(f"FAIL shared weights: modules PyTorch has and the spec lacks: {sorted(missing)}")
print(f"ok   a module called three times counts once: {params:,} parameters, {buffers} buffers, as PyTorch")
EOF

# A module forward() never calls (GoogLeNet's auxiliary heads, eval mode) is named, never dropped silently.
timeout 300 "$bin" import torchvision.models:googlenet --arg init_weights=False > "$d/g.json" 2>"$d/err"
check "googlenet with its aux heads" 0 $?
says "aux warning" "$d/err" "warning[unused-modules]: forward() never calls \`aux1\` (InceptionAux"
says "aux help" "$d/err" "--arg aux_logits=False"
grep -q "It leaves out aux1, aux2" "$d/g.json" || { echo "FAIL googlenet: the spec's description does not say"; fail=1; }
# --module: a detection model's backbone (its forward() takes a list of images; the backbone takes a
# tensor and returns a dict of feature maps: the spec's outputs). PyTorch counts the parameters.
timeout 300 "$bin" import torchvision.models.detection:fasterrcnn_resnet50_fpn --arg weights=None \
  --arg weights_backbone=None --module backbone --input 1,3,224,224 > "$d/bb.json" 2>"$d/err"
check "--module backbone" 0 $?
want=$($py -c "from torchvision.models.detection import fasterrcnn_resnet50_fpn as f
print(sum(p.numel() for p in f(weights=None, weights_backbone=None).backbone.parameters()))")
got=$("$bin" table "$d/bb.json" --format json | $py -c "import json, sys; t = json.load(sys.stdin); print(t['params'], len(t['output_shapes']))")
[ "$got" = "$want 5" ] || { echo "FAIL --module backbone: netshape $got, PyTorch $want parameters and 5 maps"; fail=1; }
timeout 300 "$bin" import torchvision.models.detection:fasterrcnn_resnet50_fpn --arg weights=None \
  --arg weights_backbone=None --module backbon 2>"$d/err"
check "--module backbon" 2 $?
says "--module did you mean" "$d/err" "did you mean \`backbone\`?"
exit $fail
