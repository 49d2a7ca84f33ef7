# Sourced by the GPU scripts: sets PY to the interpreter they run.
# $PYTHON if given, else the first of python3 / python / .venv whose torch sees a GPU (a copied .venv holds the
# CPU build), else the first that has torch at all.
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for candidate in python3 python .venv/bin/python; do
    command -v "$candidate" >/dev/null 2>&1 || continue
    if "$candidate" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
      PY=$candidate; break
    fi
    if [ -z "$PY" ] && "$candidate" -c "import torch" 2>/dev/null; then PY=$candidate; fi
  done
  PY="${PY:-python3}"
fi
