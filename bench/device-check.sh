#!/usr/bin/env bash
# device-check.sh [LIBTORCH_CMAKE_PREFIX]: netshape against another LibTorch
# (the one in a PyTorch 2.x wheel: python3 -c 'import torch;
# print(torch.utils.cmake_prefix_path)'), on a GPU when there is one.
#   1. configure and build a separate tree (build-device/) against that LibTorch;
#   2. the LibTorch agreement tests (every spec, random layers and graphs);
#   3. `netshape run` on every spec on cuda and on cpu: every layer must agree;
#   4. ResNet34/ResNet50 forward, batch 1 and 32, netshape run against PyTorch
#      in Python on the same device and dtype, when torch is importable.
# Prints "skipped: no GPU" and exits 0 where nvidia-smi finds none.
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "skipped: no GPU"
  exit 0
fi
prefix=${1:-$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')}
jobs=$(nproc 2>/dev/null || echo 2)
fail=0
echo "== build against $prefix"
cmake -S . -B build-device -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" >/dev/null || exit 1
cmake --build build-device -j "$jobs" 2>&1 | tail -3 || exit 1
echo "== LibTorch agreement tests"
build-device/tests/netshape_torch_tests || fail=1
echo "== netshape run on every spec, cuda and cpu"
for spec in specs/*.json; do
  [ "$spec" = specs/schema.json ] && continue
  for device in cuda cpu; do
    if build-device/netshape run "$spec" --device "$device" --max-memory 64GiB > /tmp/device-run.txt 2>&1; then
      echo "ok   $device $spec: $(tail -n 1 /tmp/device-run.txt)"
    else
      echo "FAIL $device $spec"; tail -n 5 /tmp/device-run.txt; fail=1
    fi
  done
done
if python3 -c 'import torch, torchvision' 2>/dev/null; then
  echo "== forward: netshape run against PyTorch in Python, same device and dtype (median ms)"
  for device in cuda cpu; do
    for spec in resnet34 resnet50; do
      for batch in 1 32; do
        ours=$(build-device/netshape run "specs/$spec.json" --device "$device" --input "$batch,3,224,224" \
               --max-memory 64GiB --bench 20 --format json 2>/dev/null |
               python3 -c 'import json,sys; print(json.load(sys.stdin)["forward_ms"]["median"])')
        theirs=$(python3 - "$spec" "$device" "$batch" <<'PY'
import statistics, sys, time, torch, torchvision
name, device, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
m = getattr(torchvision.models, name)().eval().to(device)
x = torch.randn(batch, 3, 224, 224, device=device)
with torch.no_grad():
    for _ in range(2): m(x)
    ts = []
    for _ in range(20):
        if device == "cuda": torch.cuda.synchronize()
        t = time.perf_counter(); m(x)
        if device == "cuda": torch.cuda.synchronize()
        ts.append((time.perf_counter() - t) * 1000)
print(statistics.median(ts))
PY
)
        echo "$device $spec batch $batch: netshape ${ours} ms, PyTorch ${theirs} ms, ratio $(python3 -c "print(round($ours / $theirs, 3))" 2>/dev/null)"
      done
    done
  done
fi
exit $fail
