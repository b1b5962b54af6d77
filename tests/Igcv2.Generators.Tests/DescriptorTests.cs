extern alias Generator;

using System.Reflection;
using Igcv2.Design;
using Microsoft.CodeAnalysis;
using Descriptors = Generator::Igcv2.Generators.DiagnosticDescriptors;

namespace Igcv2.Generators.Tests;

/// <summary>Every id the shared validator can raise has a descriptor (else reporting it would throw), listed in the release file.</summary>
public class DescriptorTests
{
    public static TheoryData<string> ValidatorIds => new(typeof(NetworkValidator)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string))
        .Select(f => (string)f.GetRawConstantValue()!));

    [Theory]
    [MemberData(nameof(ValidatorIds))]
    public void Every_validator_id_has_a_descriptor_in_the_one_category(string id)
    {
        var descriptor = Descriptors.ById(id);
        Assert.NotNull(descriptor);
        Assert.Equal(id, descriptor!.Id);
        Assert.Equal("Igcv2", descriptor.Category);
        Assert.True(descriptor.IsEnabledByDefault);
    }

    [Theory]
    [InlineData("IGCV001", DiagnosticSeverity.Error)]
    [InlineData("IGCV002", DiagnosticSeverity.Warning)]
    [InlineData("IGCV003", DiagnosticSeverity.Error)]
    [InlineData("IGCV004", DiagnosticSeverity.Error)]
    [InlineData("IGCV005", DiagnosticSeverity.Warning)]
    [InlineData("IGCV006", DiagnosticSeverity.Error)]
    [InlineData("IGCV007", DiagnosticSeverity.Error)]
    [InlineData("IGCV008", DiagnosticSeverity.Error)]
    public void Default_severities_are_the_design_table_and_the_release_file(string id, DiagnosticSeverity severity)
    {
        Assert.Equal(severity, Descriptors.ById(id)!.DefaultSeverity);
        var releases = File.ReadAllLines(Path.Combine(GeneratorHarness.RepoRoot(), "generators", "Igcv2.Generators", "AnalyzerReleases.Unshipped.md"));
        Assert.Contains(releases, line => line.StartsWith($"{id} | Igcv2 | {severity} |", StringComparison.Ordinal));
    }
}
