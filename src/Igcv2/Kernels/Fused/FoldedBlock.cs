using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Igcv2.Design;
using Igcv2.Models;

namespace Igcv2.Kernels.Fused;

/// <summary>
/// A whole block at inference in one pass over memory: W_1 + BN_1 (+ ReLU) | W_2 + BN_2 + P_2 | ... |
/// W_L + BN_L + P_L, + skip (identity or projection), + the final activation (paper eq. 5 with BN after every
/// W_l). BN is folded into each W_l (<see cref="FoldedConv"/>), each P_l into the write index, and the skip
/// and activation into the last convolution's store. The block runs per (image, band of output rows): W_1 reads
/// its 3x3 halo from the block's input, every later W_l is 1x1, so a band needs nothing from its neighbours
/// and its intermediates stay in a per-thread scratch that fits in L2. The unfused steps (one op per pass)
/// stay as the oracle the tests hold this against.
/// </summary>
/// <remarks>
/// CPU device only (host memory). Vectorised over output positions (<see cref="Vector256{T}"/>, or
/// <see cref="Vector512{T}"/> where <see cref="Lanes.Wide"/>), with the
/// pointwise convolutions register-blocked four output channels at a time. The loops are compiled fully optimised on
/// their first call (<see cref="MethodImplOptions.AggressiveOptimization"/>): inference is often a few calls (a
/// Predict over a test set), and tiered compilation ran the first ones at several times the steady time.
/// </remarks>
// Called by generated code; users reach it through the model's FusedInference.
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed class FoldedBlock
{
    /// <summary>Floats of one intermediate per band (192 KiB): measured faster than 64 KiB for wide, small maps at batch 1 (C416's 1664 x 8 x 8).</summary>
    private const int BandFloats = 48 * 1024;

    /// <summary>Multiply-adds below which a work item would cost less than handing it to another thread.</summary>
    private const long MinimumItemWork = 256 * 1024;

    private readonly FoldedConv[] steps;
    private readonly FoldedConv? shortcut;
    private readonly Activation finalActivation;
    private readonly int inChannels, inSize, outChannels, outSize, stride, widest;

    /// <summary>Output rows a band holds when the batch gives every core work: its intermediates fit in <see cref="BandFloats"/> (rounded up to even: <see cref="EvenRows"/>).</summary>
    private readonly int bandRows;
    private readonly long multiplyAdds;

    private FoldedBlock(FoldedConv[] steps, FoldedConv? shortcut, Activation finalActivation, string name)
    {
        this.steps = steps;
        this.shortcut = shortcut;
        this.finalActivation = finalActivation;
        Name = name;
        var first = steps[0].Plan;
        inChannels = first.InChannels;
        inSize = first.InputSize;
        stride = first.Stride;
        outChannels = steps[^1].Plan.OutChannels;
        outSize = steps[^1].Plan.OutputSize;
        multiplyAdds = steps.Sum(s => s.Plan.MultiplyAdds) + (shortcut?.Plan.MultiplyAdds ?? 0);
        widest = Math.Max(Math.Max(inChannels, steps.Max(s => s.Plan.OutChannels)),
            shortcut is null ? 0 : Math.Max(shortcut.Plan.InChannels, shortcut.Plan.OutChannels));
        bandRows = EvenRows(Math.Clamp(BandFloats / (widest * outSize), 1, outSize), outSize);
    }

    public string Name { get; }

    /// <summary>
    /// Band heights are even (or the whole map): the 3x3 stride-1 tiles take output rows in pairs from a band's first
    /// row, and a pair rounds differently from a row alone, so only bands that start at even rows pair every image's
    /// rows alike, whatever the batch size and schedule. An image's logits are then the same bits at batch 1, in a batch
    /// run block by block and in one run image by image.
    /// </summary>
    private static int EvenRows(int rows, int outSize) => Math.Min(outSize, (rows + 1) & ~1);

    /// <summary>The stem: its dense 3x3 convolution, BN and ReLU.</summary>
    public static FoldedBlock ForStem(StemPlan stem, Conv2dLayer conv, BatchNormLayer norm) =>
        new([new FoldedConv(stem.Conv, conv, norm, null, Activation.None)], null, Activation.Relu, stem.Name);

    /// <summary>An IGCV2 block with its layers, in plan order (W_l, BN_l), and the projection shortcut's when it has one.</summary>
    public static FoldedBlock ForBlock(BlockPlan block, Conv2dLayer[] convs, BatchNormLayer[] norms, Conv2dLayer? shortcutConv = null, BatchNormLayer? shortcutNorm = null)
    {
        if (!block.IsPointwiseAfterFirst) throw new ArgumentException($"{block.Name}: only blocks whose convolutions after the first are 1x1 can be fused.", nameof(block));
        var steps = new FoldedConv[block.L];
        for (var l = 0; l < block.L; l++)
        {
            var activation = l < block.L - 1 ? block.Activations[l] : Activation.None;
            steps[l] = new FoldedConv(block.Convs[l], convs[l], norms[l], block.Permutations[l], activation);
        }
        var shortcut = block.Shortcut is { } sc ? new FoldedConv(sc, shortcutConv!, shortcutNorm!, null, Activation.None) : null;
        return new FoldedBlock(steps, shortcut, block.FinalActivation, block.Name);
    }

    /// <summary>
    /// Runs the block on <paramref name="input"/> [n, C_in, H, W] into <paramref name="output"/> [n, C_out, H', W'],
    /// adding <paramref name="skip"/> (the input of the block the skip starts at) when the block has one. Folds the
    /// current weights and running statistics first.
    /// </summary>
    public void Run(Tensor input, Tensor output, Tensor? skip, int n)
    {
        if (!input.Device.IsCpu) throw new InvalidOperationException($"{Name}: fused blocks run on the CPU device only.");
        using var time = input.Device.Ops.TimeFused("FoldedBlock", Name, input);
        Fold();
        var rows = bandRows;
        var bands = (outSize + rows - 1) / rows;
        // Enough work items for every core (batch 1 included), but none so small that forking costs more than it runs.
        var cores = Environment.ProcessorCount;
        var items = Math.Clamp(n * multiplyAdds / MinimumItemWork, 1, 4 * cores);
        // A whole number of items a core, so no core waits on another's last item.
        if (items > 1) items = (items + cores - 1) / cores * cores;
        if (n * bands < items)
        {
            rows = EvenRows(Math.Max(1, (outSize * n + (int)items - 1) / (int)items), outSize);
            bands = (outSize + rows - 1) / rows;
        }
        var x = new Window(input);
        var y = new Window(output);
        var from = new Window(skip);
        void Band(int item) => RunBand(x, y, from, item / bands, item % bands * rows, Math.Min(rows, outSize - item % bands * rows));
        if (items == 1)
        {
            for (var item = 0; item < n * bands; item++) Band(item);
            return;
        }
        Parallel.For(0, n * bands, Band);
    }

    /// <summary>
    /// Runs the block on image <paramref name="image"/> alone, its bands in turn on the calling thread, with the
    /// weights as last folded; with <paramref name="image"/> -1, on all <paramref name="n"/> images as
    /// <see cref="Run(Tensor, Tensor, Tensor?, int)"/> does. <see cref="Schedule"/> picks which.
    /// </summary>
    public void Run(Tensor input, Tensor output, Tensor? skip, int n, int image)
    {
        if (image < 0)
        {
            Run(input, output, skip, n);
            return;
        }
        if (!input.Device.IsCpu) throw new InvalidOperationException($"{Name}: fused blocks run on the CPU device only.");
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(image, n);
        using var time = input.Device.Ops.TimeFused("FoldedBlock", Name, input);
        var rows = bandRows;
        var x = new Window(input);
        var y = new Window(output);
        var from = new Window(skip);
        for (var r0 = 0; r0 < outSize; r0 += rows) RunBand(x, y, from, image, r0, Math.Min(rows, outSize - r0));
    }

    /// <summary>Images a core needs before a batch runs image by image (at batch 64 on 2 cores C64 ran 7% faster so, C416 5-8%).</summary>
    public const int ImagesPerCore = 4;

    /// <summary>
    /// Runs a network's fused blocks over a batch of <paramref name="n"/>: <paramref name="blocks"/> runs them all in
    /// order on one image (or, given -1, on the whole batch). A batch of at least <see cref="ImagesPerCore"/> images a
    /// core runs image by image, each image through every block on one core, so its activations stay in that core's
    /// cache between blocks; a smaller one runs block by block, each block's rows split between the cores. Either
    /// way every output is computed by the same code, so the two agree bit for bit.
    /// </summary>
    public static void Schedule(FoldedBlock[] all, int n, Action<int> blocks)
    {
        ArgumentNullException.ThrowIfNull(all);
        ArgumentNullException.ThrowIfNull(blocks);
        if (n < ImagesPerCore * Environment.ProcessorCount)
        {
            blocks(-1);
            return;
        }
        foreach (var block in all) block.Fold();
        Parallel.For(0, n, blocks);
    }

    private void Fold()
    {
        foreach (var s in steps) s.Fold();
        shortcut?.Fold();
    }

    /// <summary>A tensor's host memory as a pointer (the tensor outlives the call); null for no tensor.</summary>
    private readonly unsafe struct Window(Tensor? t)
    {
        public readonly float* Pointer = t is null ? null : (float*)Unsafe.AsPointer(ref t.HostSpan[0]);
    }

    /// <summary>From one scratch intermediate to another: rows padded to whole vectors on both sides.</summary>
    private const PointwiseTiles.Padded Scratch = PointwiseTiles.Padded.Input | PointwiseTiles.Padded.Output;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe void RunBand(Window input, Window output, Window skip, int image, int r0, int rows)
    {
        var positions = rows * outSize;
        // Intermediates are [channels, positions] with each channel rounded up to whole Vector512s and the first one
        // 64-byte aligned, so no vector load of a channel crosses a cache line; the tiles compute whole vectors into
        // the lanes past the positions, which never reach the output.
        var channelStride = (positions + 15) & ~15;
        var intermediate = widest * channelStride;
        // Slack after the padded rows: the last vector of a narrow row reads a few floats past it.
        var padWidth = stride == 2 ? Conv3x3Stride2.SplitStride(outSize) : inSize + 2;
        var scratch = ThreadScratch.For(3 * intermediate + (rows * stride + 2) * padWidth + 64);
        fixed (float* unaligned = scratch)
        {
            float* a = (float*)(((nint)unaligned + 63) & ~(nint)63), b = a + intermediate, s = b + intermediate, pad = s + intermediate;
            var x = input.Pointer + (long)image * inChannels * inSize * inSize;
            var outPlane = outSize * outSize;
            var y = output.Pointer + (long)image * outChannels * outPlane + r0 * outSize;

            float* skipRows = null;
            var skipStride = outPlane;
            if (shortcut is not null)
            {
                // The projection: a 1x1 (strided) convolution and BN of the skip's source, into s.
                var source = skip.Pointer + (long)image * shortcut.Plan.InChannels * shortcut.Plan.InputSize * shortcut.Plan.InputSize;
                Gather(source, shortcut.Plan.InChannels, shortcut.Plan.InputSize, shortcut.Plan.Stride, r0, rows, outSize, b, channelStride);
                Pointwise(b, channelStride, shortcut, s, channelStride, positions, null, 0, Activation.None, Scratch);
                skipRows = s;
                skipStride = channelStride;
            }
            else if (skip.Pointer != null)
            {
                skipRows = skip.Pointer + (long)image * outChannels * outPlane + r0 * outSize;
            }

            var first = steps[0];
            if (steps.Length == 1 && first.Plan.KernelSize == 3 && skipRows == null && outSize >= 8)
            {
                // The stem: W_1 + BN + the activation straight into the output (rows of 8 or more: no vector of a
                // row touches the next one, which may be another band's).
                Spatial3x3(x, first, r0, rows, y, outPlane, pad, finalActivation);
                return;
            }
            float* current = a;
            if (first.Plan.KernelSize == 3)
            {
                Spatial3x3(x, first, r0, rows, a, channelStride, pad, steps.Length == 1 ? Activation.None : first.Activation);
            }
            else if (stride == 1)
            {
                // A 1x1 first convolution (the starred blocks) reads the input rows in place.
                Pointwise(x + r0 * inSize, inSize * inSize, first, a, channelStride, positions, null, 0, first.Activation, PointwiseTiles.Padded.Output);
            }
            else
            {
                Gather(x, inChannels, inSize, stride, r0, rows, outSize, b, channelStride);
                Pointwise(b, channelStride, first, a, channelStride, positions, null, 0, first.Activation, Scratch);
            }

            if (steps.Length == 1)
            {
                Epilogue(current, channelStride, y, outPlane, positions, skipRows, skipStride);
                return;
            }
            var next = b;
            for (var l = 1; l < steps.Length - 1; l++)
            {
                Pointwise(current, channelStride, steps[l], next, channelStride, positions, null, 0, steps[l].Activation, Scratch);
                var done = current;
                current = next;
                next = done;
            }
            // Into the output: the tail stores only its lanes (past them lies the next channel, or another band's rows).
            Pointwise(current, channelStride, steps[^1], y, outPlane, positions, skipRows, skipStride, finalActivation,
                PointwiseTiles.Padded.Input | (shortcut is null ? PointwiseTiles.Padded.None : PointwiseTiles.Padded.Skip));
        }
    }

    /// <summary>
    /// W_1 as a 3x3 group convolution (channel-wise when K_1 = 1) over output rows [r0, r0 + rows), with BN folded,
    /// P_1 in the write index and <paramref name="activation"/> in the last input channel's store, into
    /// <paramref name="y"/> [C_out, rows * outSize] (channels <paramref name="yStride"/> apart).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe void Spatial3x3(float* x, FoldedConv conv, int r0, int rows, float* y, int yStride, float* pad, Activation activation)
    {
        var p = conv.Plan;
        int k = p.K, perBranch = p.OutPerBranch, s = p.Stride, width = inSize + 2, padRows = (rows - 1) * s + 3;
        if (s is not (1 or 2)) throw new NotSupportedException($"{Name}: a 3x3 convolution of stride {s}.");
        // Vector512: the channels' rows in place (masked loads read the border as zeros), pad only the zeros for the rows outside the map.
        var direct = Lanes.Wide;
        if (direct) Conv3x3Tiles.Fill(pad, inSize, 0f);
        fixed (float* weights = conv.Weights)
        fixed (float* bias = conv.Bias)
        fixed (int* destination = conv.Destination)
        {
            for (var g = 0; g < p.Branches; g++)
            {
                for (var i = 0; i < k; i++)
                {
                    var channel = x + (long)(g * k + i) * inSize * inSize;
                    var top = r0 * s - 1;
                    if (!direct && s == 2) Conv3x3Tiles.PadRowsSplit(channel, inSize, inSize, top, padRows, pad, outSize);
                    else if (!direct) Conv3x3Tiles.PadRows(channel, inSize, inSize, top, padRows, pad);
                    // The first input channel starts each output at its bias, the last applies the activation.
                    var tap = new Conv3x3Tiles.Taps(i == 0, i == k - 1 ? activation : Activation.None);
                    for (var j = 0; j < perBranch; j++)
                    {
                        var o = g * perBranch + j;
                        var w = weights + (o * k + i) * 9;
                        var row = y + (long)destination[o] * yStride;
                        if (direct && s == 1) Conv3x3Tiles.AccumulateDirect(channel, inSize, top, pad, w, bias[o], tap, row, rows, outSize);
                        else if (direct) Conv3x3Tiles.AccumulateStride2Direct(channel, inSize, inSize, top, pad, w, bias[o], tap, row, rows, outSize);
                        else if (s == 1) Conv3x3Tiles.Accumulate(pad, width, w, bias[o], tap, row, rows, outSize);
                        else Conv3x3Tiles.AccumulateStride2(pad, w, bias[o], tap, row, rows, outSize);
                    }
                }
            }
        }
    }

    /// <summary>The positions a strided 1x1 convolution reads, rows [r0, r0 + rows) of the output, as [channels, rows * outSize] (channels <paramref name="channelStride"/> apart).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Gather(float* x, int channels, int size, int s, int r0, int rows, int outSize, float* into, int channelStride)
    {
        for (var c = 0; c < channels; c++)
        {
            var plane = x + (long)c * size * size;
            var o = into + (long)c * channelStride;
            for (var r = 0; r < rows; r++)
            {
                var source = plane + (r0 + r) * s * size;
                for (var col = 0; col < outSize; col++) o[r * outSize + col] = source[col * s];
            }
        }
    }

    /// <summary>
    /// A 1x1 group convolution with BN folded over <paramref name="positions"/> positions: branch g reads input
    /// channels [g*K, (g+1)*K) (rows <paramref name="xStride"/> apart) and writes its outputs to
    /// <see cref="FoldedConv.Destination"/> (rows <paramref name="yStride"/> apart), adding the skip row at the same
    /// destination and applying <paramref name="activation"/> in the store. Four output channels at a time, so
    /// each input vector loaded serves four FMAs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Pointwise(float* x, int xStride, FoldedConv conv, float* y, int yStride, int positions,
        float* skip, int skipStride, Activation activation, PointwiseTiles.Padded padded)
    {
        var p = conv.Plan;
        int k = p.K, perBranch = p.OutPerBranch;
        fixed (float* weights = conv.Weights)
        fixed (float* bias = conv.Bias)
        fixed (int* destination = conv.Destination)
        {
            for (var g = 0; g < p.Branches; g++)
            {
                var xg = x + (long)g * k * xStride;
                var j = 0;
                for (; j + 4 <= perBranch; j += 4)
                {
                    var o = g * perBranch + j;
                    PointwiseTiles.Four(xg, xStride, k, weights + o * k, bias + o, destination + o, y, yStride, positions, skip, skipStride, activation, padded);
                }
                for (; j < perBranch; j++)
                {
                    var o = g * perBranch + j;
                    PointwiseTiles.One(xg, xStride, k, weights + o * k, bias[o], y + (long)destination[o] * yStride, positions,
                        skip is null ? null : skip + (long)destination[o] * skipStride, activation, padded);
                }
            }
        }
    }

    /// <summary>The last step when it is W_1 itself (the stem): y = activation(a + skip), a already in P order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe void Epilogue(float* a, int aStride, float* y, int yStride, int positions, float* skip, int skipStride)
    {
        for (var c = 0; c < outChannels; c++)
        {
            float* source = a + (long)c * aStride, target = y + (long)c * yStride, add = skip is null ? null : skip + (long)c * skipStride;
            var p = 0;
            for (; p + 8 <= positions; p += 8)
            {
                var v = Vector256.Load(source + p);
                if (add is not null) v += Vector256.Load(add + p);
                Activations.Apply(v, finalActivation).Store(target + p);
            }
            for (; p < positions; p++) target[p] = Activations.Apply(add is null ? source[p] : source[p] + add[p], finalActivation);
        }
    }
}
