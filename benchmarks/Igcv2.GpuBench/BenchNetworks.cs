using Igcv2.Design;

namespace Igcv2.GpuBench;

/// <summary>A network the benchmark knows by a short key: how to build it and what it is.</summary>
public sealed record BenchNetwork(string Key, string ClassName, NetworkPlan Plan, Func<Device, int, int, IModel> Create)
{
    public int InputChannels => Plan.Spec.InputChannels;

    public int InputSize => Plan.Spec.InputSize;

    public int Classes => Plan.Spec.Classes;

    public static IReadOnlyList<BenchNetwork> All { get; } =
    [
        new("c64", nameof(Igcv2C64), Igcv2C64.Plan, (d, b, s) => new Igcv2C64(d, b, s)),
        new("c64-kept", nameof(Igcv2C64Kept), Igcv2C64Kept.Plan, (d, b, s) => new Igcv2C64Kept(d, b, s)),
        new("c416", nameof(Igcv2StarC416FirstStageL), Igcv2StarC416FirstStageL.Plan, (d, b, s) => new Igcv2StarC416FirstStageL(d, b, s)),
        new("digits", nameof(DigitsNet), DigitsNet.Plan, (d, b, s) => new DigitsNet(d, b, s)),
        new("check", nameof(CheckNet), CheckNet.Plan, (d, b, s) => new CheckNet(d, b, s)),
    ];

    public static BenchNetwork Find(string key) =>
        All.FirstOrDefault(n => n.Key.Equals(key, StringComparison.OrdinalIgnoreCase) || n.ClassName.Equals(key, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown network '{key}': use {string.Join(", ", All.Select(n => n.Key))}.");
}
