#!/usr/bin/env bash
# Assemble, on this machine, what scripts/gpu_check.sh needs on a GPU machine that has no network: run it here,
# then hand the GPU machine the folders it prints (the device tool's `carry`), in two calls back to back.
#
#   bash scripts/gpu_bundle.sh            # from the repository root of the checkout the device tool sends
#
# .gpu_bundle/ (git-ignored) gets:
#   site/     Python packages the device image lacks (KINDS.md's package list): bitsandbytes (its CPU and CUDA 13
#             libraries only), gguf, platformdirs, tinydb, and peft at the version tested here; put first on
#             PYTHONPATH by gpu_check.sh
#   data/     the course data files (agent/core/datafiles.py DATA_FILES), from $HOTEL_AGENT_DATA
#   gguf-1/, gguf-2/   SmolLM2-135M-Instruct.Q4_1.gguf (98 MB) in two parts with its sha256: one call may carry
#             64 MiB with the working tree, so the model travels in two calls and gpu_check.sh joins it
# and prints the two calls to make. Only copies: nothing is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
# the packages are copied from the project's own environment: $PYTHON, else .venv/bin/python
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || { echo "no $PY: set PYTHON to the interpreter of the project's dev environment"; exit 2; }
B=.gpu_bundle
LIMIT=$((64 * 1024 * 1024))  # what one device call may carry, working tree included
MARGIN=$((2 * 1024 * 1024))
GGUF_NAME=SmolLM2-135M-Instruct.Q4_1.gguf
GGUF=${GGUF:-${HOTEL_AGENT_CACHE:-$HOME/.cache/hotel-agent}/models/smollm2/$GGUF_NAME}
DATA=${HOTEL_AGENT_DATA:-../shared/data}
BNB_LIBS=${BNB_LIBS:-"cpu cuda130 cuda132"}  # the device's torch is built for CUDA 13.0

grep -qx '/.gpu_bundle/' .git/info/exclude 2>/dev/null || grep -qx '.gpu_bundle/' .gitignore \
  || { echo "add .gpu_bundle/ to .gitignore first (the device tool carries ignored paths only)"; exit 2; }
rm -rf "$B"; mkdir -p "$B/site" "$B/data" "$B/gguf-1" "$B/gguf-2"

echo "== site packages (from $($PY -c 'import sys; print(sys.prefix)'))"
for module in bitsandbytes gguf platformdirs tinydb peft; do
  "$PY" - "$module" "$B/site" "$BNB_LIBS" <<'PY'
import importlib, importlib.metadata as md, shutil, sys
from pathlib import Path
module, target, libs = sys.argv[1], Path(sys.argv[2]), sys.argv[3].split()
package = Path(importlib.import_module(module).__file__).parent
dist = md.distribution(module)
keep = {f"libbitsandbytes_{lib}.so" for lib in libs}
def ignore(folder, names):
    skip = {"__pycache__"}
    if module == "bitsandbytes":
        skip |= {n for n in names if n.startswith("libbitsandbytes_") and n not in keep}
    return [n for n in names if n in skip]
shutil.copytree(package, target / package.name, ignore=ignore)
info = Path(dist._path)  # the .dist-info folder, so importlib.metadata reports the version there too
shutil.copytree(info, target / info.name)
print(f"  {module} {dist.version}")
PY
done

echo "== data (from $DATA)"
"$PY" - "$DATA" "$B/data" <<'PY'
import shutil, sys
from pathlib import Path
from agent.core.datafiles import DATA_FILES, sha256_of
source, target = Path(sys.argv[1]), Path(sys.argv[2])
for f in DATA_FILES:
    if sha256_of(source / f.path) != f.sha256:
        sys.exit(f"{source / f.path}: sha256 mismatch")
    (target / f.path).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / f.path, target / f.path)
print(f"  {len(DATA_FILES)} files, checked against their sha256")
PY

size() { du -sb "$@" | awk '{s += $1} END {print s}'; }
TREE=$(git ls-files -co --exclude-standard -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
FIRST=$(( LIMIT - MARGIN - TREE - $(size "$B/site" "$B/data") ))
echo "== $GGUF_NAME (working tree $((TREE / 1024)) KiB; first call leaves $((FIRST / 1024 / 1024)) MiB for the model)"
if [ -f "$GGUF" ]; then
  TOTAL=$(stat -c %s "$GGUF")
  [ "$FIRST" -gt 0 ] && [ $((TOTAL - FIRST)) -le $((LIMIT - MARGIN - TREE)) ] \
    || { echo "the model does not fit in two calls beside this working tree"; exit 1; }
  head -c "$FIRST" "$GGUF" > "$B/gguf-1/$GGUF_NAME.part1"
  tail -c +$((FIRST + 1)) "$GGUF" > "$B/gguf-2/$GGUF_NAME.part2"
  sha256sum "$GGUF" | awk -v n="$GGUF_NAME" '{print $1 "  " n}' > "$B/gguf-1/$GGUF_NAME.sha256"
  echo "  part1 $((FIRST / 1024 / 1024)) MiB, part2 $(((TOTAL - FIRST) / 1024 / 1024)) MiB"
else
  echo "  not found: $GGUF (run \`hotel-agent models fetch smollm2\`); the SmolLM2 stage will be skipped"
fi

CALL1=$(( TREE + $(size "$B/site" "$B/data" "$B/gguf-1") ))
CALL2=$(( TREE + $(size "$B/gguf-2") ))
cat <<TXT

== the two device calls (one right after the other: the machine keeps call 1's files only while warm, 30 s)
call 1 ($((CALL1 / 1024 / 1024)) MiB): carry [".gpu_bundle/site", ".gpu_bundle/data", ".gpu_bundle/gguf-1"], timeout_s 420
  command: GPU_CHECK_STAGES=tiny RESULTS_DIR=\$OUT bash scripts/gpu_check.sh
call 2 ($((CALL2 / 1024 / 1024)) MiB): carry [".gpu_bundle/gguf-2"], timeout_s 600
  command: GPU_CHECK_STAGES=smollm2,served GPU_CHECK_BUDGET=540 RESULTS_DIR=\$OUT bash scripts/gpu_check.sh
TXT
