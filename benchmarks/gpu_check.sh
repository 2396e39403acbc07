#!/bin/bash
# The GPU check for a lent GPU (the device tool): at most 8 minutes (GPU_CHECK_LIMIT seconds), figures under $OUT.
#   bash benchmarks/gpu_check.sh                        # on the GPU
#   bash benchmarks/gpu_check.sh --device cpu --size smoke --epochs 1 --presets STSRN \
#     --stacked-steps 4 --precision-pairs 1 --centre-crop  # CPU smoke test
# Sets up .venv when it is missing (make venv), then runs benchmarks/gpu_check.py.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || make venv
exec timeout "${GPU_CHECK_LIMIT:-480}" .venv/bin/python benchmarks/gpu_check.py "$@"
