#!/usr/bin/env bash
# Publishes Igcv2.GpuBench as a self-contained linux-x64 program into publish/gpu/ (ignored): it runs on a
# machine with an NVIDIA driver and no .NET, and is small enough to travel to a lent GPU machine (64 MiB limit).
#
# Trimming: TrimMode=partial trims only assemblies that declare themselves trimmable (the framework's), keeping
# ours, ILGPU and ILGPU.Algorithms whole. ILGPU compiles kernels from IL at run time, reflecting over
# System.Private.CoreLib, so the csproj roots CoreLib, ILGPU and ILGPU.Algorithms (TrimmerRootAssembly) when
# PublishTrimmed is set. Measured: without the CoreLib root the output is 44 MiB instead of 47 and dies at the first
# Device.Create (ILGPU.AlgorithmContext's remapped intrinsics: MissingMethodException for
# System.Numerics.BitOperations.TrailingZeroCount) - at run time, not at publish time.
# Usage: benchmarks/gpu/publish.sh [output folder]   (then: publish/gpu/Igcv2.GpuBench --device cpu --quick)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$root/publish/gpu}"
rm -rf "$out"
# GpuPublish=true sets, in the csproj: linux-x64, self-contained, PublishTrimmed, TrimMode=partial,
# InvariantGlobalization, no symbols (global -p: properties would reach the netstandard2.0 generator).
dotnet publish "$root/benchmarks/Igcv2.GpuBench/Igcv2.GpuBench.csproj" -c Release -p:GpuPublish=true -o "$out"
cp "$root/benchmarks/gpu/igcv2_torch.py" "$root/benchmarks/gpu/run-on-device.sh" "$out/"
size=$(du -sm "$out" | cut -f1)
echo "published $out: ${size} MiB ($(find "$out" -type f | wc -l) files)"
if [ "$size" -ge 64 ]; then echo "warning: ${size} MiB is over the device tool's 64 MiB carry limit" >&2; fi
