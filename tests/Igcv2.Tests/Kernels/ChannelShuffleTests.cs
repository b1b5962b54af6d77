using Igcv2.Kernels;

namespace Igcv2.Tests.Kernels;

[Collection(KernelCollection.Name)]
public sealed class ChannelShuffleTests(KernelFixture fixture)
{
    public static TheoryData<CpuLauncher> Launchers() => new(T.Launchers);

    [Theory]
    [MemberData(nameof(Launchers))]
    public void Follows_the_documented_formula(CpuLauncher launcher)
    {
        var device = fixture.For(launcher);
        const int n = 2, c = 12, groups = 3, h = 3, w = 5;
        using var x = T.Random(device, new Random(5), n + 1, c, h, w);
        using var y = T.Poisoned(device, n + 1, c, h, w);

        device.Ops.ChannelShuffle(x, y, n, groups);

        var xs = x.ToArray();
        var ys = y.ToArray();
        int plane = h * w, k = c / groups;
        for (int s = 0; s < n; s++)
        for (int g = 0; g < groups; g++)
        for (int j = 0; j < k; j++)
        for (int p = 0; p < plane; p++)
        {
            Assert.Equal(xs[(s * c + g * k + j) * plane + p], ys[(s * c + j * groups + g) * plane + p]);
        }
        T.Close(Reference.ChannelShuffle(T.D(x), n, c, plane, groups), ys, 0, "y");
        T.Untouched(ys, n * c * plane, "y");
    }

    [Theory]
    [MemberData(nameof(Launchers))]
    public void Shuffle_by_G_then_by_C_over_G_is_the_identity(CpuLauncher launcher)
    {
        var device = fixture.For(launcher);
        const int n = 3, c = 24, groups = 4;
        using var x = T.Random(device, new Random(6), n, c, 2, 3);
        using var shuffled = T.Poisoned(device, n, c, 2, 3);
        using var back = T.Poisoned(device, n, c, 2, 3);

        device.Ops.ChannelShuffle(x, shuffled, n, groups);
        device.Ops.ChannelShuffle(shuffled, back, n, c / groups);

        Assert.NotEqual(x.ToArray(), shuffled.ToArray());
        Assert.Equal(x.ToArray(), back.ToArray());
    }

    [Fact]
    public void Rejects_groups_that_do_not_divide_the_channels()
    {
        var device = fixture.Host;
        using var x = device.Allocate(1, 6, 2, 2);
        using var y = device.Allocate(1, 6, 2, 2);
        var error = Assert.Throws<ArgumentException>(() => device.Ops.ChannelShuffle(x, y, 1, 4));
        Assert.Contains("groups = 4", error.Message);
    }
}
