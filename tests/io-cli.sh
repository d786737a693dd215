#!/usr/bin/env bash
# io-cli.sh NETSHAPE: --output and the spec reader, end to end, on files this
# script makes in a temporary folder (devices by mknod there, root only;
# never the system's /dev/null). Every command runs under `timeout`: a hang
# is a failure, not a stuck CI.
set -u
bin=$1
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail=0
check() {  # check NAME EXPECTED_CODE ACTUAL_CODE
  if [ "$2" != "$3" ]; then echo "FAIL $1: exit $3, expected $2"; fail=1; else echo "ok   $1"; fi
}
cp specs/lenet5.json "$d/net.json"
cp "$d/net.json" "$d/orig.json"

timeout 20 "$bin" table "$d/net.json" -o "$d/net.json" 2>"$d/err"; check "-o SPEC refused" 2 $?
cmp -s "$d/net.json" "$d/orig.json" || { echo "FAIL -o SPEC changed the spec"; fail=1; }
grep -q "is the spec being read" "$d/err" || { echo "FAIL -o SPEC message"; cat "$d/err"; fail=1; }
ln -s net.json "$d/alias.json"
timeout 20 "$bin" check "$d/alias.json" -o "$d/net.json" 2>/dev/null; check "-o SPEC through a symlink refused" 2 $?

ln -s table.txt "$d/link.txt"
timeout 20 "$bin" table "$d/net.json" -o "$d/link.txt" 2>/dev/null; check "-o symlink" 0 $?
[ -L "$d/link.txt" ] && [ -s "$d/table.txt" ] || { echo "FAIL -o symlink was replaced"; fail=1; }

mkfifo "$d/out.fifo"
timeout 20 "$bin" table "$d/net.json" -o "$d/out.fifo" 2>"$d/err"; check "-o FIFO without a reader" 2 $?
[ -p "$d/out.fifo" ] || { echo "FAIL -o FIFO was replaced"; fail=1; }

if mknod "$d/null" c 1 3 2>/dev/null && mknod "$d/full" c 1 7 2>/dev/null; then
  timeout 20 "$bin" table "$d/net.json" -o "$d/null" 2>/dev/null; check "-o device" 0 $?
  [ -c "$d/null" ] || { echo "FAIL -o device was replaced by a file"; fail=1; }
  timeout 20 "$bin" table "$d/net.json" -o "$d/full" 2>"$d/err"; check "-o full device" 2 $?
  [ -c "$d/full" ] || { echo "FAIL -o full device was replaced"; fail=1; }
  grep -q "No space left" "$d/err" || { echo "FAIL -o full message"; cat "$d/err"; fail=1; }
  timeout 20 "$bin" table "$d/net.json" > "$d/full" 2>"$d/err"; check "> full device" 2 $?
  grep -q "cannot write standard output: No space left" "$d/err" || { echo "FAIL > full message"; cat "$d/err"; fail=1; }
else
  echo "skip -o device: mknod not permitted"
fi

# Standard streams: -o naming the stream, or the very file it goes to, is
# written through it (a log redirected with >> keeps what it had); a failing
# or closed standard output is exit 2, never exit 0 with a cut file.
echo "earlier lines" > "$d/build.log"
timeout 20 "$bin" check "$d/net.json" -o /dev/stdout >> "$d/build.log" 2>/dev/null; check "-o /dev/stdout >> log" 0 $?
head -1 "$d/build.log" | grep -q "earlier lines" && grep -q "ok: lenet5" "$d/build.log" || { echo "FAIL -o /dev/stdout wiped the log"; cat "$d/build.log"; fail=1; }
timeout 20 "$bin" check "$d/net.json" -o "$d/build.log" >> "$d/build.log" 2>/dev/null; check "-o LOG >> LOG" 0 $?
[ "$(head -1 "$d/build.log")" = "earlier lines" ] && [ "$(grep -c 'ok: lenet5' "$d/build.log")" = 2 ] || { echo "FAIL -o LOG >> LOG"; cat "$d/build.log"; fail=1; }
timeout 20 "$bin" check "$d/net.json" -o /dev/fd/1 >> "$d/build.log" 2>/dev/null; check "-o /dev/fd/1" 0 $?
[ "$(grep -c 'ok: lenet5' "$d/build.log")" = 3 ] || { echo "FAIL -o /dev/fd/1"; fail=1; }
timeout 20 "$bin" table "$d/net.json" >&- 2>"$d/err"; check "standard output closed" 2 $?
grep -q "cannot write standard output: it is closed" "$d/err" || { echo "FAIL closed stdout message"; cat "$d/err"; fail=1; }
if [ "$(id -u)" = 0 ]; then  # as root: -o keeps a file's owner and group
  echo old > "$d/theirs.txt"; chown 65534:65534 "$d/theirs.txt"
  timeout 20 "$bin" check "$d/net.json" -o "$d/theirs.txt" 2>/dev/null; check "-o another user's file" 0 $?
  [ "$(stat -c %u:%g "$d/theirs.txt")" = "65534:65534" ] || { echo "FAIL -o changed the owner: $(stat -c %u:%g "$d/theirs.txt")"; fail=1; }
fi

# A file name is text too: ESC in it is shown escaped, never sent to the terminal.
esc=$(printf 'bad\033[2Jname.json')
printf '{"input": [1, 3, 8, 8], "layers": [{"type": "Conv2d", "out_channels": 8, "kernel_size": 9}]}' > "$d/$esc"
timeout 20 "$bin" check "$d/$esc" > "$d/out" 2>"$d/err"; check "ESC in the file name" 1 $?
if grep -q "$(printf '\033')" "$d/err" "$d/out"; then echo "FAIL ESC in the file name reached the terminal"; fail=1; fi
grep -qF 'bad\x1b[2Jname.json' "$d/err" || { echo "FAIL ESC in the file name: not shown escaped"; cat -v "$d/err"; fail=1; }

timeout 20 "$bin" check - < /dev/zero 2>"$d/err"; check "stdin /dev/zero" 1 $?
grep -q "too-large" "$d/err" || { echo "FAIL stdin /dev/zero message"; cat "$d/err"; fail=1; }
yes | timeout 20 "$bin" check - 2>/dev/null; check "stdin yes" 1 $?
mkfifo "$d/in.fifo"
timeout 20 "$bin" check "$d/in.fifo" 2>/dev/null; check "FIFO without a writer" 1 $?
timeout 20 "$bin" check "$d" 2>/dev/null; check "a directory as SPEC" 2 $?
exit $fail
