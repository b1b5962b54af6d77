using Igcv2.Design;

namespace Igcv2.Tests.Design;

/// <summary>Blocks laid out by the shared plan code, as the generator lays them out.</summary>
internal static class DesignFixtures
{
    /// <summary>Block 1 of a stage from <paramref name="inChannels"/> to <paramref name="outChannels"/> with K (any connectivity).</summary>
    public static BlockPlan Block(int inChannels, int outChannels, params int[] k)
    {
        var spec = new NetworkSpec(inChannels, 8, 10, EquatableArray.Create<LayerSpec>(
            new StageSpec(outChannels, 1, EquatableArray.Create(k), Loose: true)));
        return NetworkPlan.Build(spec).Blocks[0];
    }

    public static ConnectivityReport Analyze(BlockPlan block) =>
        Connectivity.Analyze(block.Convs, block.Permutations) ?? throw new InvalidOperationException("over the work budget");
}
