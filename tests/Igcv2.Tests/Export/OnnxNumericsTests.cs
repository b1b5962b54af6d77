using Igcv2.Design;
using Xunit.Abstractions;

namespace Igcv2.Tests.Export;

/// <summary>
/// The exported graph run by ONNX Runtime (CPU) against a model's own inference forward pass, with random
/// weights and random BN statistics (so a BN input or epsilon mix-up shows).
/// </summary>
public class OnnxNumericsTests(CpuDeviceFixture fixture, ITestOutputHelper output) : IClassFixture<CpuDeviceFixture>
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string, OnnxShuffle, int> Networks => new()
    {
        { nameof(ExportSmallNet), OnnxShuffle.ReshapeTranspose, 3 },
        { nameof(ExportSmallNet), OnnxShuffle.Gather, 3 },
        { nameof(ExportNonlinearNet), OnnxShuffle.ReshapeTranspose, 2 },
        { nameof(ExportIgcv2C64D8), OnnxShuffle.ReshapeTranspose, 2 },
        { nameof(ExportGroupedHeadNet), OnnxShuffle.ReshapeTranspose, 3 },
        { nameof(ExportGroupedHeadNet), OnnxShuffle.Gather, 2 },
        { nameof(ExportProjectionNet), OnnxShuffle.ReshapeTranspose, 3 },
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void OnnxRuntime_matches_the_reference_forward_pass(string network, OnnxShuffle shuffle, int batch)
    {
        var spec = SpecOf(network);
        using var model = new ReferenceModel(fixture.Device, NetworkPlan.Create(spec), batch, seed: 11);
        var images = OnnxTestSupport.RandomImages(batch * spec.InputChannels * spec.InputSize * spec.InputSize, seed: 5);

        var expected = model.Infer(images, batch);
        var actual = OnnxTestSupport.RunOnnxRuntime(Onnx.ToBytes(model, new OnnxExportOptions { Shuffle = shuffle }), images, batch, spec.InputChannels, spec.InputSize);

        var error = OnnxTestSupport.MaxRelativeError(actual, expected);
        output.WriteLine($"{network} ({shuffle}, batch {batch}): max relative error {error:E2}");
        Assert.True(error < Tolerance, $"max relative error {error:E2} >= {Tolerance:E0}");
    }

    public static TheoryData<string, int> GeneratedNetworks => new()
    {
        { nameof(ExportSmallNet), 3 },
        { nameof(ExportNonlinearNet), 2 },
        { nameof(ExportIgcv2C64D8), 2 },
        { nameof(ExportIgcv3Net), 3 },
        { nameof(ExportGroupedHeadNet), 3 },
        { nameof(ExportProjectionNet), 2 },
        { nameof(Models.TinyHeadNet), 3 }, // a head whose P_1 is not its own inverse: K = [2, 2, 4] over 16
        { nameof(Models.TinyWidenFirstNet), 2 },
    };

    [Theory]
    [MemberData(nameof(GeneratedNetworks))]
    public void OnnxRuntime_matches_the_generated_models_inference_forward_pass(string network, int batch)
    {
        using IModel model = network switch
        {
            nameof(ExportSmallNet) => new ExportSmallNet(fixture.Device, batch, seed: 4),
            nameof(ExportNonlinearNet) => new ExportNonlinearNet(fixture.Device, batch, seed: 4),
            nameof(ExportIgcv2C64D8) => new ExportIgcv2C64D8(fixture.Device, batch, seed: 4),
            nameof(ExportIgcv3Net) => new ExportIgcv3Net(fixture.Device, batch, seed: 4),
            nameof(ExportGroupedHeadNet) => new ExportGroupedHeadNet(fixture.Device, batch, seed: 4),
            nameof(ExportProjectionNet) => new ExportProjectionNet(fixture.Device, batch, seed: 4),
            nameof(Models.TinyHeadNet) => new Models.TinyHeadNet(fixture.Device, batch, seed: 4),
            nameof(Models.TinyWidenFirstNet) => new Models.TinyWidenFirstNet(fixture.Device, batch, seed: 4),
            _ => throw new ArgumentOutOfRangeException(nameof(network), network, null),
        };
        RandomizeBatchNorm(model, seed: 9);
        var spec = model.Plan.Spec;
        var images = OnnxTestSupport.RandomImages(batch * spec.InputChannels * spec.InputSize * spec.InputSize, seed: 6);
        using var input = fixture.Device.Allocate(batch, spec.InputChannels, spec.InputSize, spec.InputSize);
        input.CopyFrom(images);

        var expected = model.Forward(input, training: false).ToArray().Select(v => (double)v).ToArray();
        var actual = OnnxTestSupport.RunOnnxRuntime(Onnx.ToBytes(model), images, batch, spec.InputChannels, spec.InputSize);

        var error = OnnxTestSupport.MaxRelativeError(actual, expected);
        output.WriteLine($"{network} (generated, batch {batch}): max relative error {error:E2}");
        Assert.True(error < Tolerance, $"max relative error {error:E2} >= {Tolerance:E0}");
    }

    [Fact]
    public void The_batch_dimension_is_symbolic_one_graph_runs_any_batch()
    {
        var spec = ExportSmallNet.Spec;
        using var model = new ReferenceModel(fixture.Device, NetworkPlan.Create(spec), batchSize: 5, seed: 2);
        var bytes = Onnx.ToBytes(model);
        var perImage = spec.InputChannels * spec.InputSize * spec.InputSize;
        foreach (var batch in new[] { 1, 5 })
        {
            var images = OnnxTestSupport.RandomImages(batch * perImage, seed: batch);
            var actual = OnnxTestSupport.RunOnnxRuntime(bytes, images, batch, spec.InputChannels, spec.InputSize);
            Assert.Equal(batch * spec.Classes, actual.Length);
            Assert.True(OnnxTestSupport.MaxRelativeError(actual, model.Infer(images, batch)) < Tolerance);
        }
    }

    [Fact]
    public void The_reference_model_is_sensitive_to_the_permutations()
    {
        // The control for the comparisons above: a graph with the shuffles of one block inverted computes
        // different logits, so agreement is not an accident of a permutation-blind network.
        var spec = ExportSmallNet.Spec;
        using var model = new ReferenceModel(fixture.Device, NetworkPlan.Create(spec), batchSize: 2, seed: 11);
        var bytes = Onnx.ToBytes(model, new OnnxExportOptions { Shuffle = OnnxShuffle.Gather });
        var onnx = OnnxTestSupport.Parse(bytes);
        var indices = onnx.Graph.Node.Single(n => n.Name == "stage1.block1.shuffle2.indices").Attribute.Single().T.Int64Data;
        var inverse = new long[indices.Count];
        for (var o = 0; o < indices.Count; o++) inverse[indices[o]] = o;
        Assert.NotEqual(indices, inverse);
        indices.Clear();
        indices.Add(inverse);
        var images = OnnxTestSupport.RandomImages(2 * spec.InputChannels * spec.InputSize * spec.InputSize, seed: 5);

        var actual = OnnxTestSupport.RunOnnxRuntime(Google.Protobuf.MessageExtensions.ToByteArray(onnx), images, 2, spec.InputChannels, spec.InputSize);

        Assert.True(OnnxTestSupport.MaxRelativeError(actual, model.Infer(images, 2)) > 1e-2);
    }

    /// <summary>Gamma, beta and the running statistics away from their initial 1, 0, 0, 1.</summary>
    private static void RandomizeBatchNorm(IModel model, int seed)
    {
        var random = new Random(seed);
        foreach (var p in model.Parameters.Concat(model.Buffers))
        {
            (double centre, double spread) = p.Kind switch
            {
                ParameterKind.BatchNormGamma => (1.0, 0.5),
                ParameterKind.BatchNormBeta => (0.0, 0.2),
                ParameterKind.RunningMean => (0.0, 0.3),
                ParameterKind.RunningVariance => (1.0, 0.5),
                _ => (double.NaN, 0),
            };
            if (double.IsNaN(centre)) continue;
            p.SetValues(Enumerable.Range(0, (int)p.Length).Select(_ => (float)(centre + spread * (2 * random.NextDouble() - 1))).ToArray());
        }
    }

    private static NetworkSpec SpecOf(string network) => network switch
    {
        nameof(ExportSmallNet) => ExportSmallNet.Spec,
        nameof(ExportNonlinearNet) => ExportNonlinearNet.Spec,
        nameof(ExportIgcv2C64D8) => ExportIgcv2C64D8.Spec,
        nameof(ExportGroupedHeadNet) => ExportGroupedHeadNet.Spec,
        nameof(ExportProjectionNet) => ExportProjectionNet.Spec,
        _ => throw new ArgumentOutOfRangeException(nameof(network), network, null),
    };
}
