extern alias Generator;

using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Descriptors = Generator::Igcv2.Generators.DiagnosticDescriptors;

namespace Igcv2.Generators.Tests;

/// <summary>
/// What the IDE reads besides the message: the K the message proposes, handed to the code fix in
/// <see cref="Diagnostic.Properties"/>, and a help link to the id's section of the README.
/// </summary>
public class DiagnosticPropertiesTests
{
    private const string Key = "SuggestedK";

    private static Diagnostic Only(string id, string layers, string network = "InputChannels = 3, InputSize = 32, Classes = 10")
    {
        var run = GeneratorHarness.Run($$"""
            using Igcv2;
            namespace Tests;
            [Igcv2Network({{network}})]
            {{layers}}
            public partial class Net { }
            """);
        run.AssertGeneratorDidNotThrow();
        return Assert.Single(run.Diagnostics, d => d.Id == id);
    }

    [Theory]
    [InlineData("IGCV001", "[Stem(64)] [Stage(64, Blocks = 2, K = [1, 4, 4])]", "1,8,8")]
    [InlineData("IGCV001", "[Stem(64)] [Stage(64, Blocks = 2, K = [1, 4, 4], Loose = true)]", "1,8,8")]
    [InlineData("IGCV002", "[Stem(64)] [Stage(64, Blocks = 2, K = [1, 8, 16])]", "1,8,8")]
    [InlineData("IGCV003", "[Stem(64)] [Stage(64, Blocks = 2, K = [1, 8, 7])]", "1,8,8")]
    [InlineData("IGCV005", "[Stem(64)] [Stage(64, K = [1, 8, 8])] [Stage(256, Blocks = 2, K = [1, 32, 8], Stride = 2)]", "1,16,16")]
    public void The_proposed_K_travels_in_the_properties_and_matches_the_message(string id, string layers, string expected)
    {
        var d = Only(id, layers);
        Assert.Equal(expected, d.Properties[Key]);
        // The message names the same K, so the code fix writes what the user read.
        var named = Regex.Match(d.GetMessage(), @"K = \[([0-9, ]+)\] (is complementary|fits)").Groups[1].Value.Replace(" ", "");
        Assert.Equal(expected, named);
    }

    [Fact]
    public void The_grouped_head_hands_over_its_complementary_K()
    {
        // Table 8's head in small: dense but 4 paths per pair (IGCV002); the message names the fewest-weight head.
        var d = Only("IGCV002", "[Stem(64)] [Stage(64, K = [1, 8, 8])] [Classifier(K = [16, 16])]", "InputChannels = 3, InputSize = 8, Classes = 16");
        var named = Regex.Match(d.GetMessage(), @"K = \[([0-9, ]+)\] is complementary").Groups[1].Value.Replace(" ", "");
        Assert.NotEmpty(named);
        Assert.Equal(named, d.Properties[Key]);
    }

    [Fact]
    public void A_diagnostic_without_a_proposal_has_no_K_property()
    {
        var d = Only("IGCV004", "[Stem(64)] [Stage(64, K = [1, 8, 8], L = 2)]");
        Assert.False(d.Properties.ContainsKey(Key));
    }

    [Theory]
    [InlineData("IGCV001")]
    [InlineData("IGCV002")]
    [InlineData("IGCV003")]
    [InlineData("IGCV004")]
    [InlineData("IGCV005")]
    [InlineData("IGCV006")]
    [InlineData("IGCV007")]
    [InlineData("IGCV008")]
    public void Every_id_links_to_its_README_section(string id)
    {
        var descriptor = Descriptors.ById(id)!;
        var readme = File.ReadAllLines(Path.Combine(GeneratorHarness.RepoRoot(), "README.md"));
        var props = File.ReadAllText(Path.Combine(GeneratorHarness.RepoRoot(), "Directory.Build.props"));
        var repository = Regex.Match(props, "<RepositoryUrl>(.*)</RepositoryUrl>").Groups[1].Value;

        Assert.NotEmpty(repository);
        Assert.Equal($"{repository}/blob/main/README.md#{id.ToLowerInvariant()}", descriptor.HelpLinkUri);
        // GitHub's anchor for a heading that is the id alone is the id in lower case.
        Assert.Contains(readme, line => line == "#### " + id);
    }
}
