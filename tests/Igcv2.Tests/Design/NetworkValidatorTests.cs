using Igcv2.Design;

namespace Igcv2.Tests.Design;

/// <summary>The shared checks the generator reports, at the level of a spec.</summary>
public class NetworkValidatorTests
{
    private static NetworkSpec Igcv2Star(bool looseStage2, bool looseStage3) => new(3, 32, 100, EquatableArray.Create<LayerSpec>(
        new StemSpec(64),
        new StageSpec(416, 6, EquatableArray.Create(1, 8, 8, 8)),
        new StageSpec(832, 6, EquatableArray.Create(1, 8, 8, 8), Stride: 2, Loose: looseStage2),
        new StageSpec(1664, 6, EquatableArray.Create(1, 8, 8, 8), Stride: 2, Loose: looseStage3)));

    [Fact]
    public void Igcv2_star_C416_is_not_dense_in_stages_2_and_3()
    {
        var result = NetworkValidator.Validate(Igcv2Star(false, false));
        Assert.Null(result.Plan);
        var notDense = result.Issues.Where(i => i.Id == "IGCV001").ToList();
        Assert.Equal([2, 3], notDense.Select(i => i.LayerIndex));
        Assert.All(notDense, i => Assert.True(i.IsError));
        Assert.Contains("(density 0.62)", notDense[1].Message); // 832 -> 1664
        Assert.Contains("(density 0.31)", notDense[1].Message); // 1664 -> 1664
    }

    [Fact]
    public void Loose_turns_IGCV001_into_a_warning_and_the_plan_is_built()
    {
        var result = NetworkValidator.Validate(Igcv2Star(true, true));
        Assert.NotNull(result.Plan);
        Assert.All(result.Issues.Where(i => i.Id == "IGCV001"), i => Assert.False(i.IsError));
        Assert.Equal(18, result.Plan!.Blocks.Count);
    }

    [Fact]
    public void Validate_never_throws_on_random_specs()
    {
        int[] hostile = [int.MinValue, -1, 0, 1, 2, 3, 4, 7, 8, 16, 32, 64, 65536, 65537, int.MaxValue];
        var random = new Random(7);
        int Pick() => random.Next(3) == 0 ? hostile[random.Next(hostile.Length)] : new[] { 1, 2, 4, 8, 12, 16, 24, 32, 64 }[random.Next(9)];
        var plans = 0;
        for (var n = 0; n < 5_000; n++)
        {
            var layers = new List<LayerSpec>();
            for (var i = random.Next(5); i > 0; i--)
            {
                layers.Add(random.Next(5) == 0
                    ? new StemSpec(Pick(), random.Next(4) == 0 ? Pick() : 1)
                    : new StageSpec(Pick(), random.Next(4) == 0 ? Pick() : random.Next(1, 4),
                        Enumerable.Range(0, random.Next(6)).Select(_ => Pick()).ToEquatableArray(),
                        random.Next(4) == 0 ? Pick() : null,
                        random.Next(4) == 0 ? Pick() : random.Next(1, 3),
                        random.Next(4) == 0 ? Pick() : 2,
                        random.Next(2) == 0,
                        random.Next(2) == 0));
            }
            var spec = new NetworkSpec(random.Next(2) == 0 ? 3 : Pick(), random.Next(2) == 0 ? 8 : Pick(), random.Next(2) == 0 ? 10 : Pick(), layers.ToEquatableArray());
            var result = NetworkValidator.Validate(spec);
            Assert.Equal(result.Plan is null, result.Issues.Any(i => i.IsError));
            if (result.Plan is { } plan)
            {
                plans++;
                Assert.Equal(plan.Rows.Sum(r => r.Parameters), plan.ParameterCount);
            }
        }
        Assert.True(plans > 25, $"only {plans} valid specs");
    }
}
