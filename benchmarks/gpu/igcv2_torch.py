#!/usr/bin/env python3
"""The same IGCV2 networks in PyTorch, built from what Igcv2.GpuBench exported, checked and timed beside ours.

Igcv2.GpuBench writes, per network, into its export folder:
  <Net>.safetensors     every parameter and BN running statistic (model.SaveWeights)
  <Net>.plan.json       the forward pass as the lowered steps (the list the generator prints and the ONNX export
                        writes), each reading and writing values by id: projection shortcuts and the real head included
  <Net>.io.safetensors  a fixed input and the logits our model computed for it in inference mode
and results.json with our timings. This script rebuilds each network from the plan (no second copy of the
layout logic: one interpreter, run_steps, drives both a pure-Python backend and the torch module), checks the
inference logits against ours (max |a - b| / max |ours|), times inference and a training step (forward, softmax
cross-entropy, backward, SGD with Nesterov momentum 0.9 and weight decay 1e-4 on conv/FC weights) eagerly and
under torch.compile, at the batch sizes we timed, and prints the ratio table ours / torch.

Needs only python3 and torch (no safetensors, numpy or anything else). Without torch, --self-test still runs the
pure-Python parts: the safetensors reader, the plan parser and validator, and, given --export-dir with an
exported CheckNet, a pure-Python forward whose logits must match ours.
"""

import argparse
import array
import json
import math
import os
import statistics
import struct
import sys
import time
import unittest

try:  # torch is only needed to check and time; the self-test runs without it.
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:  # pragma: no cover - depends on the machine
    torch = None
    nn = None
    F = None

PLAN_FORMAT = "igcv2.plan"
PLAN_VERSION = 2
CHECK_TOLERANCE = 1e-3

# ----------------------------------------------------------------------------------------------- safetensors


class StoredTensor:
    """One F32 tensor of a safetensors file: its shape and raw little-endian bytes."""

    def __init__(self, shape, raw):
        self.shape = list(shape)
        self.raw = raw

    @property
    def count(self):
        return math.prod(self.shape)

    def values(self):
        """The values as a flat array('f') in row-major order."""
        a = array.array("f")
        a.frombytes(self.raw)
        if sys.byteorder != "little":
            a.byteswap()
        return a


def read_safetensors(path):
    """Reads a safetensors file: 8-byte little-endian header length, a JSON header, raw data. F32 only.

    Returns (tensors: name -> StoredTensor, metadata: dict)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: too short for a safetensors header")
    (header_length,) = struct.unpack("<Q", data[:8])
    if header_length > len(data) - 8:
        raise ValueError(f"{path}: header length {header_length} runs past the end of the file ({len(data)} bytes)")
    header = json.loads(data[8:8 + header_length].decode("utf-8"))
    base = 8 + header_length
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            raise ValueError(f"{path}: {name} is {info['dtype']}; only F32 is read")
        start, end = info["data_offsets"]
        shape = info["shape"]
        if end - start != 4 * math.prod(shape) or base + end > len(data):
            raise ValueError(f"{path}: {name} {shape} has byte range [{start}, {end}) that does not fit")
        tensors[name] = StoredTensor(shape, data[base + start:base + end])
    return tensors, metadata


def write_safetensors(path, tensors, metadata=None):
    """Writes name -> (shape, flat float list) as F32 safetensors (for the self-test)."""
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        shape, values = tensors[name]
        a = array.array("f", values)
        if sys.byteorder != "little":
            a.byteswap()
        raw = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = dict(metadata)
    text = json.dumps(header).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


# ----------------------------------------------------------------------------------------------- the plan


def load_plan(path):
    with open(path, "r", encoding="utf-8") as f:
        plan = json.load(f)
    if plan.get("format") != PLAN_FORMAT or plan.get("format_version") != PLAN_VERSION:
        raise ValueError(f"{path}: not an {PLAN_FORMAT} v{PLAN_VERSION} file")
    return plan


def expected_tensors(plan):
    """name -> shape of every tensor the plan's steps read (as the C# model names them)."""
    names = {}
    for s in plan["steps"]:
        if s["op"] == "conv":
            names[s["name"] + ".weight"] = [s["out_channels"], s["in_channels"] // s["groups"], s["kernel"], s["kernel"]]
        elif s["op"] == "bn":
            for suffix in ("weight", "bias", "running_mean", "running_var"):
                names[f"{s['name']}.{suffix}"] = [s["channels"]]
        elif s["op"] == "linear":
            names[s["name"] + ".weight"] = [s["out_features"], s["in_features"]]
            names[s["name"] + ".bias"] = [s["out_features"]]
        elif s["op"] == "bias":
            names[s["name"] + ".bias"] = [s["channels"]]
    return names


def validate_plan(plan, tensors):
    """Checks that the weights file holds exactly the plan's tensors with the plan's shapes, and that the
    steps are well formed (a shuffle's groups divide its channels, every value is written before it is read)."""
    problems = []
    expected = expected_tensors(plan)
    for name, shape in expected.items():
        if name not in tensors:
            problems.append(f"missing {name}")
        elif tensors[name].shape != shape:
            problems.append(f"{name} is {tensors[name].shape}, the plan needs {shape}")
    for name in tensors:
        if name not in expected:
            problems.append(f"the plan does not use {name}")
    written = {0}
    for i, s in enumerate(plan["steps"]):
        op = s["op"]
        for field in ("in", "skip"):
            if field in s and s[field] not in written:
                problems.append(f"step {i}: reads value {s[field]} before it is written")
        if op == "shuffle" and (s["groups"] <= 0 or s["channels"] % s["groups"] != 0):
            problems.append(f"step {i}: shuffle groups {s['groups']} do not divide {s['channels']} channels")
        elif op == "conv" and (s["in_channels"] % s["groups"] or s["out_channels"] % s["groups"]):
            problems.append(f"step {i}: {s['name']} groups {s['groups']} do not divide its channels")
        elif op == "add" and "skip" not in s:
            problems.append(f"step {i}: add without a skip")
        elif op not in ("conv", "bn", "relu", "relu6", "shuffle", "add", "global_avg_pool", "linear", "bias"):
            problems.append(f"step {i}: unknown op {op}")
        if "out" in s:
            written.add(s["out"])
    if "output" in plan and plan["output"] not in written:
        problems.append(f"the output, value {plan['output']}, is never written")
    if problems:
        raise ValueError(f"{plan.get('network')}: " + "; ".join(problems))


def last_reads(steps):
    """value id -> index of the last step that reads it (so the interpreter can drop dead values)."""
    last = {}
    for i, s in enumerate(steps):
        last[s["in"]] = i
        if "skip" in s:
            last[s["skip"]] = i
    return last


def run_steps(steps, x, backend, output=None, last=None):
    """The forward pass: one interpreter for every backend. Each step reads value s["in"] (an add also s["skip"], the
    block's identity skip or its projection's BN) and writes s["out"]; value 0 is the input. Returns value `output`
    (default: the last step's). A value is dropped after its last read."""
    last = last_reads(steps) if last is None else last
    values = {0: x}
    for i, s in enumerate(steps):
        op, v = s["op"], values[s["in"]]
        if op == "conv":
            y = backend.conv(v, s)
        elif op == "bn":
            y = backend.bn(v, s)
        elif op == "relu":
            y = backend.relu(v)
        elif op == "relu6":
            y = backend.relu6(v)
        elif op == "shuffle":
            y = backend.shuffle(v, s["groups"])
        elif op == "add":
            y = backend.add(v, values[s["skip"]])
        elif op == "global_avg_pool":
            y = backend.pool(v)
        elif op == "linear":
            y = backend.linear(v, s)
        elif op == "bias":
            y = backend.bias(v, s)
        else:
            raise ValueError(f"unknown step {op}")
        for read in (s["in"], s.get("skip")):
            if read is not None and last.get(read) == i and read != output:
                values.pop(read, None)
        values[s["out"]] = y
    return values[steps[-1]["out"] if output is None else output]


def shuffle_source(channels, groups):
    """P after a conv with G = groups branches: out[j*G + g] = in[g*(C/G) + j]; returns src with out[o] = in[src[o]]."""
    per = channels // groups
    src = [0] * channels
    for g in range(groups):
        for j in range(per):
            src[j * groups + g] = g * per + j
    return src


class PyBackend:
    """Plain-Python NCHW float64 reference: slow, for the self-test's small network only. Tensors are
    (shape, flat list)."""

    def __init__(self, tensors, epsilon):
        self.t = {name: list(t.values()) for name, t in tensors.items()}
        self.eps = epsilon

    def conv(self, x, s):
        (n, c, h, w), xs = x
        k, stride, pad, groups = s["kernel"], s["stride"], s["padding"], s["groups"]
        co = s["out_channels"]
        wt = self.t[s["name"] + ".weight"]
        cin_g, cout_g = c // groups, co // groups
        ho, wo = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
        y = [0.0] * (n * co * ho * wo)
        for b in range(n):
            for o in range(co):
                g = o // cout_g
                for oy in range(ho):
                    for ox in range(wo):
                        acc = 0.0
                        for ci in range(cin_g):
                            ic = g * cin_g + ci
                            for ky in range(k):
                                iy = oy * stride - pad + ky
                                if iy < 0 or iy >= h:
                                    continue
                                for kx in range(k):
                                    ix = ox * stride - pad + kx
                                    if 0 <= ix < w:
                                        acc += xs[((b * c + ic) * h + iy) * w + ix] * wt[((o * cin_g + ci) * k + ky) * k + kx]
                        y[((b * co + o) * ho + oy) * wo + ox] = acc
        return (n, co, ho, wo), y

    def bn(self, x, s):
        (n, c, h, w), xs = x
        name = s["name"]
        gamma, beta = self.t[name + ".weight"], self.t[name + ".bias"]
        mean, var = self.t[name + ".running_mean"], self.t[name + ".running_var"]
        y = list(xs)
        plane = h * w
        for b in range(n):
            for ch in range(c):
                scale = gamma[ch] / math.sqrt(var[ch] + self.eps)
                base = (b * c + ch) * plane
                for i in range(plane):
                    y[base + i] = (xs[base + i] - mean[ch]) * scale + beta[ch]
        return (n, c, h, w), y

    def relu(self, x):
        return x[0], [v if v > 0 else 0.0 for v in x[1]]

    def relu6(self, x):
        return x[0], [min(max(v, 0.0), 6.0) for v in x[1]]

    def shuffle(self, x, groups):
        (n, c, h, w), xs = x
        src, plane = shuffle_source(c, groups), h * w
        y = [0.0] * len(xs)
        for b in range(n):
            for o in range(c):
                y[(b * c + o) * plane:(b * c + o + 1) * plane] = xs[(b * c + src[o]) * plane:(b * c + src[o] + 1) * plane]
        return (n, c, h, w), y

    def add(self, x, skip):
        return x[0], [a + b for a, b in zip(x[1], skip[1])]

    def pool(self, x):
        (n, c, h, w), xs = x
        plane = h * w
        return (n, c, 1, 1), [sum(xs[(b * c + ch) * plane:(b * c + ch + 1) * plane]) / plane for b in range(n) for ch in range(c)]

    def linear(self, x, s):
        (n, f, _, _), xs = x
        wt, bias, o = self.t[s["name"] + ".weight"], self.t[s["name"] + ".bias"], s["out_features"]
        return (n, o), [bias[j] + sum(xs[b * f + i] * wt[j * f + i] for i in range(f)) for b in range(n) for j in range(o)]

    def bias(self, x, s):
        (n, c, _, _), xs = x
        bias = self.t[s["name"] + ".bias"]
        return (n, c), [xs[b * c + j] + bias[j] for b in range(n) for j in range(c)]


def relative_error(actual, reference):
    """max |a - b| / max |b| over flat sequences (NaN anywhere: inf)."""
    diff = max((abs(a - b) for a, b in zip(actual, reference)), default=0.0)
    scale = max((abs(b) for b in reference), default=0.0)
    if diff != diff:
        return float("inf")
    return diff / scale if scale > 0 else (0.0 if diff == 0 else float("inf"))


def export_paths(export_dir, network):
    return (os.path.join(export_dir, network + ".plan.json"),
            os.path.join(export_dir, network + ".safetensors"),
            os.path.join(export_dir, network + ".io.safetensors"))


def python_reference_check(export_dir, network="CheckNet", images=2):
    """Runs the pure-Python backend on the first images of the exported input; returns the relative error."""
    plan_path, weights_path, io_path = export_paths(export_dir, network)
    plan = load_plan(plan_path)
    tensors, _ = read_safetensors(weights_path)
    validate_plan(plan, tensors)
    io, _ = read_safetensors(io_path)
    x, logits = io["input"], io["logits"]
    n = min(images, x.shape[0])
    per_image = x.count // x.shape[0]
    xs = [float(v) for v in x.values()[:n * per_image]]
    (_, classes), ys = run_steps(plan["steps"], ((n, *x.shape[1:]), xs), PyBackend(tensors, plan["bn_epsilon"]), plan.get("output"))
    return relative_error(ys, list(logits.values())[:n * classes])


# ----------------------------------------------------------------------------------------------- torch


if torch is not None:

    class Bias(nn.Module):
        """The grouped head's bias on the logits (its W_L has none)."""

        def __init__(self, channels):
            super().__init__()
            self.bias = nn.Parameter(torch.zeros(channels))

    class Igcv2Torch(nn.Module):
        """The network as torch modules, run by run_steps with this module as the backend."""

        def __init__(self, plan):
            super().__init__()
            self.steps = plan["steps"]
            self.output = plan.get("output")
            self.last = last_reads(self.steps)
            self.layers = nn.ModuleDict()
            for s in self.steps:
                if s["op"] == "conv":
                    self.layers[key(s["name"])] = nn.Conv2d(s["in_channels"], s["out_channels"], s["kernel"], s["stride"], s["padding"], groups=s["groups"], bias=False)
                elif s["op"] == "bn":
                    self.layers[key(s["name"])] = nn.BatchNorm2d(s["channels"], eps=plan["bn_epsilon"], momentum=plan["bn_momentum"])
                elif s["op"] == "linear":
                    self.layers[key(s["name"])] = nn.Linear(s["in_features"], s["out_features"])
                elif s["op"] == "bias":
                    self.layers[key(s["name"])] = Bias(s["channels"])

        def load(self, tensors):
            with torch.no_grad():
                for name, t in tensors.items():
                    layer, _, attribute = name.rpartition(".")
                    target = getattr(self.layers[key(layer)], attribute)
                    target.copy_(torch.frombuffer(bytearray(t.raw), dtype=torch.float32).reshape(t.shape))
            return self

        def forward(self, x):
            return run_steps(self.steps, x, self, self.output, self.last)

        def conv(self, x, s):
            return self.layers[key(s["name"])](x)

        def bn(self, x, s):
            return self.layers[key(s["name"])](x)

        def relu(self, x):
            return F.relu(x)

        def relu6(self, x):
            return F.relu6(x)

        def shuffle(self, x, groups):
            n, c, h, w = x.shape
            return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)

        def add(self, x, skip):
            return x + skip

        def pool(self, x):
            return x.mean(dim=(2, 3), keepdim=True)

        def linear(self, x, s):
            return self.layers[key(s["name"])](x.flatten(1))

        def bias(self, x, s):
            return x.flatten(1) + self.layers[key(s["name"])].bias


def key(name):
    return name.replace(".", "_")


def time_ms(fn, device, warmup, runs):
    """Median and minimum wall time of fn in ms, after warm-up, synchronising the device before each clock read."""
    for _ in range(warmup):
        fn()
    sync(device)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        sync(device)
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times), min(times)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def build(plan, tensors, device):
    return Igcv2Torch(plan).load(tensors).to(device)


def sgd_for(model):
    decay = [p for n, p in model.named_parameters() if n.endswith(".weight") and p.dim() > 1]
    rest = [p for n, p in model.named_parameters() if not (n.endswith(".weight") and p.dim() > 1)]
    return torch.optim.SGD([{"params": decay, "weight_decay": 1e-4}, {"params": rest, "weight_decay": 0.0}],
                           lr=1e-3, momentum=0.9, nesterov=True)


def time_network(plan, tensors, device, batch, compiled, warmup, runs):
    """Inference and training-step times (ms) and peak memory (MiB) for one network, batch and mode."""
    c, h, w = plan["input"]
    gen = torch.Generator(device="cpu").manual_seed(1)
    x = (torch.rand(batch, c, h, w, generator=gen) * 2 - 1).to(device)
    y = torch.randint(0, plan["classes"], (batch,), generator=gen).to(device)
    result = {}

    infer = build(plan, tensors, device).eval()
    infer_fn = torch.compile(infer) if compiled else infer

    def inference():
        with torch.no_grad():
            infer_fn(x)

    train = build(plan, tensors, device).train()
    train_fn = torch.compile(train) if compiled else train
    opt = sgd_for(train)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(train_fn(x), y)
        loss.backward()
        opt.step()

    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    result["train_step_ms"], result["train_step_min_ms"] = time_ms(step, device, warmup, runs)
    result["inference_ms"], result["inference_min_ms"] = time_ms(inference, device, warmup, runs)
    if device.type == "cuda":
        result["peak_memory_mib"] = torch.cuda.max_memory_allocated(device) / 2**20
    return result


def check_network(plan, tensors, io, device):
    model = build(plan, tensors, device).eval()
    x = torch.frombuffer(bytearray(io["input"].raw), dtype=torch.float32).reshape(io["input"].shape).to(device)
    with torch.no_grad():
        logits = model(x).float().cpu().reshape(-1).tolist()
    return relative_error(logits, list(io["logits"].values()))


def main_torch(args):
    if torch is None:
        print("torch is not installed: only --self-test can run here.", file=sys.stderr)
        return 1
    device = torch.device(args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu"))
    # Ours is plain float32: keep cuDNN and cuBLAS off TF32 unless asked, so both sides do the same arithmetic.
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.benchmark = True
    # Every core the process may use, as ours uses: Debian's PyTorch 1.13 started with one OpenMP thread on the 2-core
    # machine (omp_get_max_threads() 1 with OMP_NUM_THREADS unset), which halved its CPU throughput against ours.
    threads = args.threads or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    torch.set_num_threads(threads)
    ours = {}
    if args.ours and os.path.exists(args.ours):
        with open(args.ours, "r", encoding="utf-8") as f:
            ours_json = json.load(f)
        for r in ours_json.get("results", []):
            ours[(r["network"], r["batch"])] = r
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"PyTorch {torch.__version__} on {name}, {torch.get_num_threads()} CPU threads, TF32 {'on' if args.tf32 else 'off'}, {args.warmup} warm-up + {args.runs} timed runs (median)")

    networks = sorted(f[:-len(".plan.json")] for f in os.listdir(args.export_dir) if f.endswith(".plan.json"))
    report = {"torch": torch.__version__, "device": name, "threads": torch.get_num_threads(), "tf32": args.tf32, "checks": {}, "results": []}
    print()
    print(f"{'network':<16} {'logits rel error vs ours':>25}")
    failed = False
    for network in networks:
        plan_path, weights_path, io_path = export_paths(args.export_dir, network)
        plan = load_plan(plan_path)
        tensors, _ = read_safetensors(weights_path)
        validate_plan(plan, tensors)
        if os.path.exists(io_path):
            io, _ = read_safetensors(io_path)
            error = check_network(plan, tensors, io, device)
            report["checks"][network] = error
            failed |= not error <= CHECK_TOLERANCE
            print(f"{network:<16} {error:>25.2e} {'PASS' if error <= CHECK_TOLERANCE else 'FAIL'}")

    batches = [int(b) for b in args.batches.split(",")]
    modes = ["eager"] + ([] if args.no_compile else ["compile"])
    started = time.perf_counter()
    os.makedirs(args.out, exist_ok=True)
    # Every eager run first, then the compiled ones (compilation can take minutes): a budget cut loses the latter.
    for mode in modes:
        for network in networks:
            if network == "CheckNet":
                continue
            plan_path, weights_path, _ = export_paths(args.export_dir, network)
            plan = load_plan(plan_path)
            tensors, _ = read_safetensors(weights_path)
            for batch in batches:
                if args.budget_s and time.perf_counter() - started > args.budget_s:
                    print(f"{network} batch {batch} {mode}: skipped, past the {args.budget_s} s budget")
                    continue
                try:
                    r = time_network(plan, tensors, device, batch, mode == "compile", args.warmup, args.runs)
                except Exception as e:  # torch.compile may be unavailable (no Triton, no compiler): say so, go on
                    print(f"{network} batch {batch} {mode}: failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
                    r = {"error": f"{type(e).__name__}: {e}"[:500]}
                r.update({"network": network, "batch": batch, "mode": mode})
                report["results"].append(r)
                if "error" not in r:
                    print(f"{network} batch {batch} {mode}: inference {r['inference_ms']:.2f} ms, train step {r['train_step_ms']:.2f} ms")
                with open(os.path.join(args.out, "torch_results.json"), "w", encoding="utf-8") as f:
                    json.dump(report, f, indent=2)

    lines = ratio_table(ours, report["results"])
    print()
    for line in lines:
        print(line)
    with open(os.path.join(args.out, "torch_results.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
    with open(os.path.join(args.out, "comparison.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return 2 if failed else 0


def ratio_table(ours, torch_results):
    """The final table: our ms, torch's ms per mode, and ours / torch (above 1: we are slower)."""
    lines = [
        "| network | batch | pass | ours ms | torch eager ms | ours/eager | torch.compile ms | ours/compile | ours img/s | ours MiB | torch MiB |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    by_key = {}
    for r in torch_results:
        by_key[(r["network"], r["batch"], r["mode"])] = r
    keys = sorted({(r["network"], r["batch"]) for r in torch_results})
    for network, batch in keys:
        mine = ours.get((network, batch))
        for kind, field, rate in (("inference", "inference_ms", "inference_images_per_s"), ("train step", "train_step_ms", "train_images_per_s")):
            eager = by_key.get((network, batch, "eager"), {})
            comp = by_key.get((network, batch, "compile"), {})
            ours_ms = mine[field] if mine else None
            cells = [network, str(batch), kind, fmt(ours_ms), fmt(eager.get(field)), ratio(ours_ms, eager.get(field)),
                     fmt(comp.get(field)) if "error" not in comp else "failed", ratio(ours_ms, comp.get(field)),
                     fmt(mine[rate], 0) if mine else "-",
                     fmt(mine.get("peak_memory_mib"), 0) if mine else "-", fmt(eager.get("peak_memory_mib"), 0)]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def fmt(value, digits=2):
    return "-" if value is None else f"{value:.{digits}f}"


def ratio(a, b):
    return "-" if a is None or not b else f"{a / b:.2f}x"


# ----------------------------------------------------------------------------------------------- self-test


class SelfTest(unittest.TestCase):
    """The pure-Python parts, without torch. IGCV2_EXPORT_DIR (or --export-dir) adds the exported-network checks."""

    export_dir = os.environ.get("IGCV2_EXPORT_DIR")

    def test_safetensors_round_trip(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.safetensors")
            write_safetensors(path, {"b": ([2, 3], [1, -2.5, 3, 4, 5, 6e-8]), "a": ([1], [0.25])}, {"k": "v"})
            tensors, meta = read_safetensors(path)
            self.assertEqual(meta, {"k": "v"})
            self.assertEqual(tensors["b"].shape, [2, 3])
            self.assertEqual(list(tensors["b"].values()), list(array.array("f", [1, -2.5, 3, 4, 5, 6e-8])))
            self.assertEqual(list(tensors["a"].values()), [0.25])

    def test_safetensors_rejects_a_truncated_file(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.safetensors")
            write_safetensors(path, {"a": ([4], [1, 2, 3, 4])})
            with open(path, "rb") as f:
                data = f.read()
            with open(path, "wb") as f:
                f.write(data[:-4])
            with self.assertRaises(ValueError):
                read_safetensors(path)

    def test_shuffle_is_the_channel_shuffle(self):
        # C = 6, G = 2: out[j*2 + g] = in[g*3 + j] -> [0, 3, 1, 4, 2, 5]
        self.assertEqual(shuffle_source(6, 2), [0, 3, 1, 4, 2, 5])
        self.assertEqual(shuffle_source(4, 1), [0, 1, 2, 3])
        _, y = PyBackend({}, 1e-5).shuffle(((1, 6, 1, 1), [10, 11, 12, 13, 14, 15]), 2)
        self.assertEqual(y, [10, 13, 11, 14, 12, 15])

    def test_grouped_conv_and_skip(self):
        # Two groups of a 1x1 conv: each output sees only its group's input; the skip adds the input, value 0.
        plan = {"steps": [
            {"op": "conv", "name": "c", "in_channels": 2, "out_channels": 2, "kernel": 1, "stride": 1, "padding": 0, "groups": 2, "in": 0, "out": 1},
            {"op": "add", "skip": 0, "in": 1, "out": 2},
            {"op": "relu", "in": 2, "out": 3},
        ]}
        tensors = {"c.weight": StoredTensor([2, 1, 1, 1], array.array("f", [2, -3]).tobytes())}
        validate_plan(plan, tensors)
        shape, y = run_steps(plan["steps"], ((1, 2, 1, 2), [1.0, 2.0, 1.0, 1.0]), PyBackend(tensors, 1e-5))
        self.assertEqual(shape, (1, 2, 1, 2))
        self.assertEqual(y, [3.0, 6.0, 0.0, 0.0])  # [1,2]*2 + [1,2]; [1,1]*-3 + [1,1] -> relu 0

    def test_validate_plan_names_what_is_wrong(self):
        plan = {"network": "X", "steps": [{"op": "linear", "name": "classifier", "in_features": 3, "out_features": 2, "in": 0, "out": 1},
                                          {"op": "add", "skip": 4, "in": 1, "out": 2}]}
        tensors = {"classifier.weight": StoredTensor([3, 2], b"\0" * 24), "extra": StoredTensor([1], b"\0" * 4)}
        with self.assertRaises(ValueError) as caught:
            validate_plan(plan, tensors)
        message = str(caught.exception)
        for part in ("missing classifier.bias", "classifier.weight is [3, 2]", "does not use extra", "reads value 4 before it is written"):
            self.assertIn(part, message)

    def test_exported_plans_match_their_weights(self):
        if not self.export_dir:
            self.skipTest("no export folder given")
        plans = [f for f in os.listdir(self.export_dir) if f.endswith(".plan.json")]
        self.assertTrue(plans, f"no plans in {self.export_dir}")
        for f in plans:
            network = f[:-len(".plan.json")]
            plan_path, weights_path, _ = export_paths(self.export_dir, network)
            plan = load_plan(plan_path)
            tensors, metadata = read_safetensors(weights_path)
            validate_plan(plan, tensors)
            self.assertEqual(metadata.get("format"), "igcv2.weights")
            self.assertEqual(sum(t.count for n, t in tensors.items() if not n.endswith(("running_mean", "running_var"))), plan["parameters"])

    def test_python_forward_matches_our_logits(self):
        # Every small exported network with reference logits (CheckNet; the tests add a projection and a grouped-head net).
        if not self.export_dir:
            self.skipTest("no export folder given")
        checked = []
        for f in sorted(os.listdir(self.export_dir)):
            network = f[:-len(".plan.json")] if f.endswith(".plan.json") else None
            if network is None or not os.path.exists(export_paths(self.export_dir, network)[2]):
                continue
            if load_plan(export_paths(self.export_dir, network)[0])["multiply_adds"] > 2_000_000:
                continue  # too slow for plain Python
            with self.subTest(network=network):
                self.assertLess(python_reference_check(self.export_dir, network), CHECK_TOLERANCE)
            checked.append(network)
        if not checked:
            self.skipTest("no small exported network")
        print("checked: " + ", ".join(checked), file=sys.stderr)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export-dir", default="bench-results/export", help="Igcv2.GpuBench's export folder")
    parser.add_argument("--ours", default=None, help="Igcv2.GpuBench's results.json (default: beside the export folder)")
    parser.add_argument("--out", default=None, help="where torch_results.json and comparison.md go (default: beside the export folder)")
    parser.add_argument("--device", default="auto", choices=["auto", "cuda", "cpu"])
    parser.add_argument("--batches", default="64,256")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-compile", action="store_true", help="time eager mode only")
    parser.add_argument("--budget-s", type=float, default=0, help="skip the timings that would start after this many seconds (0: no limit)")
    parser.add_argument("--threads", type=int, default=0, help="PyTorch's CPU threads (0: every core this process may use)")
    parser.add_argument("--tf32", action="store_true", help="let cuDNN/cuBLAS use TF32 (ours is plain float32)")
    parser.add_argument("--self-test", action="store_true", help="run the pure-Python self-test (no torch needed)")
    args = parser.parse_args(argv)
    parent = os.path.dirname(os.path.abspath(args.export_dir))
    args.ours = args.ours or os.path.join(parent, "results.json")
    args.out = args.out or parent
    if args.self_test:
        if os.path.isdir(args.export_dir):
            SelfTest.export_dir = args.export_dir
        suite = unittest.defaultTestLoader.loadTestsFromTestCase(SelfTest)
        return 0 if unittest.TextTestRunner(verbosity=2).run(suite).wasSuccessful() else 1
    return main_torch(args)


if __name__ == "__main__":
    sys.exit(main())
