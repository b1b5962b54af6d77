using System.Reflection;
using Igcv2.Training;
using Xunit.Abstractions;

namespace Igcv2.Tests.Paper;

/// <summary>
/// Every network the samples declare from the paper (Tables 1, 3, 4, 6, 8 and 10, in samples/Igcv2.PaperNetworks
/// and samples/Igcv2.Table1) is trainable as generated: its constants agree with its plan and its parameters,
/// its gradients are finite, and a small enough SGD step on a random batch of two lowers that batch's loss.
/// </summary>
public sealed class PaperNetworkTrainingTests(ITestOutputHelper output) : IDisposable
{
    private readonly Device device = Device.Create(DeviceKind.Cpu);

    public void Dispose() => device.Dispose();

    private static readonly Type[] NetworkTypes =
        new[] { typeof(Igcv2.Samples.PaperNetworks.Igcv2W100).Assembly, typeof(Igcv2.Samples.Igcv2C64).Assembly }
            .SelectMany(a => a.GetTypes())
            .Where(t => t.IsClass && !t.IsAbstract && typeof(IModel).IsAssignableFrom(t))
            // Both samples compile samples/Igcv2.Table1/Table1Networks.cs: each Table 1 network once.
            .DistinctBy(t => t.FullName)
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .ToArray();

    public static TheoryData<string> Networks() => new(NetworkTypes.Select(t => t.FullName!));

    [Fact]
    public void The_samples_declare_every_family_of_the_paper()
    {
        var names = NetworkTypes.Select(t => t.Name).ToList();
        Assert.True(names.Count >= 38, $"only {names.Count} networks");
        foreach (var expected in new[] { "XceptionC35", "Igcv2StarC416FirstStageL", "Igcv2W100", "Igcv2W050", "Igcv2W025", "MobileNetV1W100", "Igcv3W100", "Igcv3W070", "MobileNetV2W100", "Igcv2StarC416" })
        {
            Assert.Contains(expected, names);
        }
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void One_SGD_step_lowers_the_loss_of_its_batch(string name)
    {
        const int n = 2;
        var type = NetworkTypes.Single(t => t.FullName == name);
        var plan = (Igcv2.Design.NetworkPlan)type.GetProperty("Plan", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
        var parameterCount = (long)type.GetField("ParameterCount")!.GetValue(null)!;
        Assert.Equal(plan.ParameterCount, parameterCount);
        Assert.Equal(plan.MultiplyAdds, (long)type.GetField("MultiplyAdds")!.GetValue(null)!);

        using var model = (IModel)Activator.CreateInstance(type, device, n, 1)!;
        Assert.Equal(parameterCount, model.Parameters.Sum(p => p.Length));

        var spec = plan.Spec;
        var random = new Random(3);
        using var x = device.Allocate(n, spec.InputChannels, spec.InputSize, spec.InputSize);
        using var labels = device.AllocateLabels(n);
        using var gradLogits = device.Allocate(n, spec.Classes);
        x.CopyFrom(Enumerable.Range(0, (int)x.Length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray());
        labels.CopyFrom(Enumerable.Range(0, n).Select(_ => random.Next(spec.Classes)).ToArray());
        using var sgd = new Sgd(model.Parameters, new SgdOptions { Momentum = 0, Nesterov = false, WeightDecay = 0 });

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var before = device.Ops.SoftmaxCrossEntropy(model.Forward(x, training: true), labels, gradLogits, n);
        model.Backward(gradLogits);
        foreach (var parameter in model.Parameters)
        {
            var gradient = parameter.GetGradient();
            Assert.True(gradient.All(float.IsFinite), $"{parameter.Name}: a gradient is not finite");
        }
        // The gradient reaches the first layer (the grouped head's BN on the 1x1 map passes it on with n >= 2).
        Assert.Contains(model.Parameters[0].GetGradient(), g => g != 0);

        // A step against the gradient lowers the loss once the step is small enough (first order). The
        // pooled features of random images differ little between two samples, and BN over them (the
        // IGCV2* head's BN_1) divides by that small spread: the loss is steep there, so back off until
        // the step is within reach of its linearisation.
        var start = model.Parameters.Select(p => p.GetValues()).ToList();
        var after = float.NaN;
        double rate;
        for (rate = 1e-3; rate >= 1e-8; rate /= 10)
        {
            for (var i = 0; i < start.Count; i++) model.Parameters[i].SetValues(start[i]);
            sgd.Step(rate);
            after = device.Ops.SoftmaxCrossEntropy(model.Forward(x, training: true), labels, gradLogits, n);
            if (after < before) break;
        }
        output.WriteLine($"{type.Name}: loss {before:0.00000} -> {after:0.00000} at lr {rate:0e0}, {clock.ElapsedMilliseconds} ms");
        Assert.True(float.IsFinite(before) && after < before, $"{type.Name}: no step from 1e-3 down to 1e-8 lowers the loss {before} (last {after})");
    }
}
