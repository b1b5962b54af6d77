using Igcv2.Design;

namespace Igcv2.Tests.Design;

public class InterleavingTests
{
    [Fact]
    public void ChannelShuffle_follows_the_documented_convention()
    {
        // G = 2 branches over C = 6: out[j*2 + g] = in[g*3 + j].
        Assert.Equal([0, 3, 1, 4, 2, 5], Interleaving.ChannelShuffle(6, 2));
    }

    [Theory]
    [InlineData(64, 8)]
    [InlineData(98, 14)]
    [InlineData(416, 52)]
    public void ChannelShuffle_is_a_permutation_whose_inverse_is_the_shuffle_over_C_over_G_branches(int channels, int branches)
    {
        var forward = Interleaving.ChannelShuffle(channels, branches);
        var inverse = Interleaving.ChannelShuffle(channels, Interleaving.InverseBranches(channels, branches));
        Assert.Equal(Enumerable.Range(0, channels), forward.Order());
        for (var o = 0; o < channels; o++) Assert.Equal(o, forward[inverse[o]]);
    }

    [Theory]
    [InlineData(64, 1)]
    [InlineData(64, 64)]
    public void ChannelShuffle_with_one_branch_or_one_channel_per_branch_is_the_identity(int channels, int branches)
    {
        Assert.True(Interleaving.IsIdentity(channels, branches));
        Assert.Equal(Enumerable.Range(0, channels), Interleaving.ChannelShuffle(channels, branches));
    }
}
