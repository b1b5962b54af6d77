#!/usr/bin/env bash
# The one command for the GPU machine: no .NET and no building there. Runs the published Igcv2.GpuBench on CUDA
# (correctness check against the CPU, exports, timings of IGCV2 C64, IGCV2* C416 and DigitsNet at batch 64 and
# 256, the per-op-kind profile of a C64 training step), then the PyTorch comparison on the same weights, and
# prints the ours/torch table last.
#
# Usage (from the repository root, with publish/gpu/ from benchmarks/gpu/publish.sh, or from inside publish/gpu/):
#   benchmarks/gpu/run-on-device.sh [results folder]          default: $OUT when set, else ./gpu-results
# Environment: RUNS (20), WARMUP (5), BATCHES (64,256), NETWORKS (c64,c416,digits), TORCH_COMPILE (1; 0 = eager
# only), TORCH_BUDGET_S (seconds the torch timings may take before remaining runs are skipped, 300),
# IGCV2_WORK (where exports go, /tmp/igcv2-gpu), BENCH_ARGS (extra Igcv2.GpuBench arguments).
# Results (at most 8 files, flat): gpubench.log, results.json, check.csv, profile.csv, torch.log,
# torch_results.json, comparison.md.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ -x "$here/Igcv2.GpuBench" ]; then bin="$here"; else bin="$here/../../publish/gpu"; fi
if [ ! -x "$bin/Igcv2.GpuBench" ]; then
  echo "no published Igcv2.GpuBench beside this script or in publish/gpu: run benchmarks/gpu/publish.sh on a machine with the .NET SDK" >&2
  exit 1
fi
out="${1:-${OUT:-$PWD/gpu-results}}"
work="${IGCV2_WORK:-/tmp/igcv2-gpu}"
mkdir -p "$out" "$work"
export PYTHONUNBUFFERED=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv 2>/dev/null || echo "nvidia-smi not available"
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "device", torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)' 2>&1

echo "== Igcv2.GpuBench (CUDA)"
# shellcheck disable=SC2086
"$bin/Igcv2.GpuBench" --device cuda --out "$work" \
  --networks "${NETWORKS:-c64,c416,digits}" --batches "${BATCHES:-64,256}" \
  --runs "${RUNS:-20}" --warmup "${WARMUP:-5}" --profile c64 ${BENCH_ARGS:-} 2>&1 | tee "$out/gpubench.log"
bench_rc=${PIPESTATUS[0]}
for f in results.json check.csv profile.csv; do [ -f "$work/$f" ] && cp "$work/$f" "$out/"; done
if [ "$bench_rc" -ne 0 ]; then echo "Igcv2.GpuBench exited with $bench_rc (2: the correctness check failed)"; fi

echo "== PyTorch"
compile_flag=""; [ "${TORCH_COMPILE:-1}" = "0" ] && compile_flag="--no-compile"
# shellcheck disable=SC2086
python3 "$here/igcv2_torch.py" --export-dir "$work/export" --ours "$work/results.json" --out "$work" \
  --batches "${BATCHES:-64,256}" --runs "${RUNS:-20}" --warmup "${WARMUP:-5}" --budget-s "${TORCH_BUDGET_S:-300}" $compile_flag 2>&1 | tee "$out/torch.log"
torch_rc=${PIPESTATUS[0]}
for f in torch_results.json comparison.md; do [ -f "$work/$f" ] && cp "$work/$f" "$out/"; done

echo
echo "== ours (Igcv2.GpuBench, ILGPU CUDA, float32) against PyTorch on the same networks and weights"
grep -A4 "^Correctness" "$out/gpubench.log" | head -3
[ -f "$out/comparison.md" ] && cat "$out/comparison.md"
echo "(ms are medians; ours/torch above 1 means ours is slower; results in $out)"
[ "$bench_rc" -eq 0 ] && [ "$torch_rc" -eq 0 ]
