using Igcv2.Training;

namespace Igcv2.Tests.Training;

public sealed class SgdTests : IDisposable
{
    private readonly Device device = Device.Create(DeviceKind.Cpu);

    public void Dispose() => device.Dispose();

    private Parameter Make(string name, ParameterKind kind, float value, float gradient)
    {
        var p = new Parameter(name, kind, device.Allocate(1), device.Allocate(1));
        p.SetValues([value]);
        p.Gradient!.CopyFrom([gradient]);
        return p;
    }

    // Hand-computed with p = 1, g = 0.5, lr = 0.1, mu = 0.9, wd = 0.01, two steps (PyTorch's formulas):
    // Nesterov, decayed:   d = 0.51, v = 0.51, p = 1 - 0.1*(0.51 + 0.459) = 0.9031;
    //                      d = 0.509031, v = 0.968031, p = 0.9031 - 0.1*(0.509031 + 0.8712279) = 0.76507411.
    // Nesterov, no decay:  v = 0.5, p = 0.905; v = 0.95, p = 0.905 - 0.1*(0.5 + 0.855) = 0.7695.
    // Plain, decayed:      v = 0.51, p = 0.949; d = 0.50949, v = 0.96849, p = 0.852151.
    // Plain, no decay:     v = 0.5, p = 0.95; v = 0.95, p = 0.855.
    [Theory]
    [InlineData(true, 0.76507411, 0.7695, 0.968031, 0.95)]
    [InlineData(false, 0.852151, 0.855, 0.96849, 0.95)]
    public void Two_steps_match_the_hand_computed_PyTorch_update_and_skip_decay_on_bias_and_BN(
        bool nesterov, double weightAfter, double otherAfter, double weightVelocity, double otherVelocity)
    {
        var weight = Make("conv.weight", ParameterKind.ConvWeight, 1, 0.5f);
        var bias = Make("fc.bias", ParameterKind.LinearBias, 1, 0.5f);
        var gamma = Make("bn.weight", ParameterKind.BatchNormGamma, 1, 0.5f);
        var beta = Make("bn.bias", ParameterKind.BatchNormBeta, 1, 0.5f);
        using var sgd = new Sgd([weight, bias, gamma, beta], new SgdOptions { Momentum = 0.9, Nesterov = nesterov, WeightDecay = 0.01 });

        sgd.Step(0.1);
        sgd.Step(0.1);

        Assert.Equal(weightAfter, weight.GetValues()[0], 5);
        Assert.Equal(weightVelocity, sgd.MomentumOf(weight).ToArray()[0], 5);
        foreach (var p in new[] { bias, gamma, beta })
        {
            Assert.Equal(otherAfter, p.GetValues()[0], 5);
            Assert.Equal(otherVelocity, sgd.MomentumOf(p).ToArray()[0], 5);
        }
    }

    [Fact]
    public void A_decay_filter_can_decay_every_parameter()
    {
        var bias = Make("fc.bias", ParameterKind.LinearBias, 1, 0.5f);
        using var sgd = new Sgd([bias], new SgdOptions { WeightDecay = 0.01, DecayFilter = _ => true });

        sgd.Step(0.1);
        sgd.Step(0.1);

        Assert.Equal(0.76507411, bias.GetValues()[0], 5);
    }

    [Fact]
    public void Buffers_without_gradient_are_not_updated()
    {
        var buffer = new Parameter("bn.running_mean", ParameterKind.RunningMean, device.Allocate(1), null);
        buffer.SetValues([3f]);
        using var sgd = new Sgd([buffer]);

        sgd.Step(0.1);

        Assert.Empty(sgd.Parameters);
        Assert.Equal(3f, buffer.GetValues()[0]);
    }

    [Fact]
    public void The_ILGPU_kernel_and_the_host_loop_agree_bit_for_bit()
    {
        // Large enough for the host loop's parallel chunks and for several grid-stride rounds.
        const int n = 100_003;
        var random = new Random(7);
        float[] Values() => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var values = Values();
        var gradients = new[] { Values(), Values() };
        Parameter Copy()
        {
            var p = new Parameter("w", ParameterKind.ConvWeight, device.Allocate(n), device.Allocate(n));
            p.SetValues(values);
            return p;
        }
        var host = Copy();
        var kernel = Copy();
        using var hostSgd = new Sgd([host], new SgdOptions { WeightDecay = 1e-3 });
        using var kernelSgd = new Sgd([kernel], new SgdOptions { WeightDecay = 1e-3 }) { UseKernelOnCpu = true };

        foreach (var g in gradients)
        {
            host.Gradient!.CopyFrom(g);
            kernel.Gradient!.CopyFrom(g);
            hostSgd.Step(0.05);
            kernelSgd.Step(0.05);
        }

        Assert.Equal(host.GetValues(), kernel.GetValues());
        Assert.Equal(hostSgd.MomentumOf(host).ToArray(), kernelSgd.MomentumOf(kernel).ToArray());
        Assert.NotEqual(values, host.GetValues());
    }
}
