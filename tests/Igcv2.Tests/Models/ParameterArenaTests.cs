namespace Igcv2.Tests.Models;

/// <summary>The one contiguous parameter and gradient buffer every generated model keeps (llm.c's arena).</summary>
public sealed class ParameterArenaTests : IDisposable
{
    private readonly Device device = Device.Create(DeviceKind.Cpu);

    public void Dispose() => device.Dispose();

    [Fact]
    public void Every_parameter_is_a_view_of_the_arena_in_model_order_with_nothing_between()
    {
        using var model = new TinyProjectionNet(device, batchSize: 2);
        var arena = model.Arena;
        Assert.Same(arena, ((IModel)model).Arena);
        Assert.Equal(TinyProjectionNet.ParameterCount, arena.Length);
        Assert.Equal(model.Parameters, arena.Parameters);
        long expected = 0;
        foreach (var p in model.Parameters)
        {
            Assert.Equal(expected, arena.OffsetOf(p));
            expected += p.Length;
        }
        Assert.Equal(arena.Length, expected);

        var all = arena.Values.ToArray();
        foreach (var p in model.Parameters)
        {
            Assert.Equal(p.GetValues(), all.AsSpan((int)arena.OffsetOf(p), (int)p.Length).ToArray());
        }
    }

    [Fact]
    public void Backward_writes_the_gradients_into_the_arena_and_writes_to_the_arena_reach_the_parameters()
    {
        using var model = new TinyProjectionNet(device, batchSize: 2);
        var spec = TinyProjectionNet.Spec;
        var random = new Random(5);
        using var x = device.Allocate(2, spec.InputChannels, spec.InputSize, spec.InputSize);
        x.CopyFrom(Enumerable.Range(0, (int)x.Length).Select(_ => (float)random.NextDouble()).ToArray());
        var logits = model.Forward(x, training: true);
        using var gradLogits = device.Allocate(logits.Shape);
        gradLogits.CopyFrom(Enumerable.Range(0, (int)gradLogits.Length).Select(_ => (float)random.NextDouble() - 0.5f).ToArray());
        model.Backward(gradLogits);

        var gradients = model.Arena.Gradients.ToArray();
        Assert.Contains(gradients, g => g != 0);
        foreach (var p in model.Parameters)
        {
            Assert.Equal(p.GetGradient(), gradients.AsSpan((int)model.Arena.OffsetOf(p), (int)p.Length).ToArray());
        }

        var values = Enumerable.Range(0, (int)model.Arena.Length).Select(i => i * 0.001f).ToArray();
        model.Arena.Values.CopyFrom(values);
        var last = model.Parameters[^1];
        Assert.Equal(values.AsSpan((int)model.Arena.OffsetOf(last), (int)last.Length).ToArray(), last.GetValues());
    }
}
