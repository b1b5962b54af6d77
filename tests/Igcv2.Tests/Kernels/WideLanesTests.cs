using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Igcv2.Kernels;
using Igcv2.Samples;
using Igcv2.Tests.Models;

namespace Igcv2.Tests.Kernels;

/// <summary>
/// The Vector512 tiles (<see cref="Lanes.Wide"/>: the 1x1 register tiles, the 3x3 stride-1 and stride-2 W_1 rows read
/// in place by masked loads) against the Vector256 ones (on the rows copied with a zero border): every output adds the same terms by FMA in the same order in both, so fused inference
/// and a training step agree bit for bit whichever width runs, on maps wide enough for Vector512 rows (DigitsNet's 28,
/// C64's 32 and 16) and bands of every length. Only this class switches the width; other tests running meanwhile
/// see the same bits either way.
/// </summary>
public sealed class WideLanesTests : IDisposable
{
    private readonly Device device = Device.Create(DeviceKind.Cpu);
    private readonly bool wasWide = Lanes.Wide;

    public void Dispose()
    {
        Lanes.Wide = wasWide;
        device.Dispose();
    }

    public static TheoryData<string, int> Inference => new()
    {
        // Small and odd maps (5 and 6 wide, stride 2 to 3), a grouped W_1 (K_1 > 1: taps added to what is stored), projections.
        { nameof(TinyWideningNet), 3 },
        { nameof(TinyGroupedNet), 3 },
        { nameof(TinyProjectionNet), 3 },
        { nameof(TinyStemlessProjectionNet), 3 },
        // Rows of 21 (one whole Vector512 and a masked one; stride 2 reads the 32 columns past both ends) and 11.
        { nameof(TinyOddWideNet), 3 },
        // A stride-2 stem of 3 channels with 19 outputs a row: a second column block of stride 2, added to what is stored.
        { nameof(TinyWideStrideNet), 3 },
        { nameof(Igcv2.GpuBench.DigitsNet), 1 },
        { nameof(Igcv2.GpuBench.DigitsNet), 3 },
        // Image by image: ImagesPerCore images a core, and one more.
        { nameof(Igcv2.GpuBench.DigitsNet), -1 },
        { nameof(Igcv2C64), 1 },
        { nameof(Igcv2StarC416FirstStageL), 1 },
    };

    [Fact]
    public void Wide_is_on_by_default_exactly_where_the_cpu_runs_Vector512_natively() =>
        Assert.Equal(Vector512.IsHardwareAccelerated, wasWide);

    [Theory]
    [MemberData(nameof(Inference))]
    public void Fused_inference_gives_the_same_bits_in_Vector512_as_in_Vector256(string name, int batch)
    {
        if (!Comparable) return;
        var n = batch > 0 ? batch : Igcv2.Kernels.Fused.FoldedBlock.ImagesPerCore * Environment.ProcessorCount + 1;
        using var model = Create(name, n);
        GeneratedModelTests.RandomizeBatchNorm(model, seed: 5);
        using var x = Input(model, n, seed: 6);
        Lanes.Wide = false;
        var narrow = model.Forward(x, training: false).ToArray();
        // Other input between the two, so an output the wide pass failed to write would hold its values.
        using (var other = Input(model, n, seed: 7)) model.Forward(other, training: false);
        Lanes.Wide = true;
        Assert.True(Lanes.Wide);
        var wide = model.Forward(x, training: false).ToArray();
        Assert.Equal(narrow, wide);
        Assert.All(wide, v => Assert.True(float.IsFinite(v)));
    }

    [Theory]
    [InlineData(nameof(TinyOddWideNet))]
    [InlineData(nameof(TinyWideStrideNet))]
    [InlineData(nameof(Igcv2.GpuBench.DigitsNet))]
    [InlineData(nameof(Igcv2C64))]
    public void A_training_step_gives_the_same_gradients_and_statistics_in_Vector512_as_in_Vector256(string name)
    {
        if (!Comparable) return;
        const int n = 2;
        using var narrowModel = Create(name, n);
        using var wideModel = Create(name, n);
        using var x = Input(narrowModel, n, seed: 8);
        var classes = narrowModel.Plan.Spec.Classes;
        using var gradLogits = device.Allocate(n, classes);
        gradLogits.CopyFrom(GeneratedModelTests.RandomValues(n * classes, seed: 9));
        for (var step = 0; step < 2; step++)
        {
            Lanes.Wide = false;
            var narrow = narrowModel.Forward(x, training: true).ToArray();
            narrowModel.Backward(gradLogits);
            Lanes.Wide = true;
            var wide = wideModel.Forward(x, training: true).ToArray();
            wideModel.Backward(gradLogits);
            Assert.Equal(narrow, wide);
            foreach (var (a, b) in narrowModel.Parameters.Zip(wideModel.Parameters))
            {
                Assert.Equal(a.GetGradient(), b.GetGradient());
                // A step of plain SGD on both, so the second step runs on weights that moved.
                var moved = a.GetValues().Zip(a.GetGradient(), (v, g) => v - 0.05f * g).ToArray();
                a.SetValues(moved);
                b.SetValues(moved);
            }
            foreach (var (a, b) in narrowModel.Buffers.Zip(wideModel.Buffers)) Assert.Equal(a.GetValues(), b.GetValues());
        }
    }

    /// <summary>
    /// Where Vector512 is not native there is one width (<see cref="Lanes.Wide"/> stays off), so there is nothing to
    /// compare; and the Vector256 tiles add by FMA only where the CPU has it (MultiplyAddEstimate). xunit 2 has no
    /// dynamic skip: on such a CPU these tests return at once.
    /// </summary>
    private static bool Comparable => Vector512.IsHardwareAccelerated && Fma.IsSupported;

    private IModel Create(string name, int batchSize) => name switch
    {
        nameof(TinyWideningNet) => new TinyWideningNet(device, batchSize, 3),
        nameof(TinyGroupedNet) => new TinyGroupedNet(device, batchSize, 3),
        nameof(TinyProjectionNet) => new TinyProjectionNet(device, batchSize, 3),
        nameof(TinyStemlessProjectionNet) => new TinyStemlessProjectionNet(device, batchSize, 3),
        nameof(TinyOddWideNet) => new TinyOddWideNet(device, batchSize, 3),
        nameof(TinyWideStrideNet) => new TinyWideStrideNet(device, batchSize, 3),
        nameof(Igcv2.GpuBench.DigitsNet) => new Igcv2.GpuBench.DigitsNet(device, batchSize, 3),
        nameof(Igcv2C64) => new Igcv2C64(device, batchSize, 3),
        nameof(Igcv2StarC416FirstStageL) => new Igcv2StarC416FirstStageL(device, batchSize, 3),
        _ => throw new ArgumentException(name),
    };

    private Tensor Input(IModel model, int n, int seed)
    {
        var spec = model.Plan.Spec;
        var x = device.Allocate(n, spec.InputChannels, spec.InputSize, spec.InputSize);
        x.CopyFrom(GeneratedModelTests.RandomValues((int)x.Length, seed));
        return x;
    }
}
