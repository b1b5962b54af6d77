using ApprovalTests;
using ApprovalTests.Reporters;

namespace Igcv2.Generators.Tests;

/// <summary>
/// The generated source, compared with the reviewed files in Snapshots/. A change shows up as a
/// *.received.cs beside the approved file; review it, then copy it over the approved one.
/// </summary>
[UseReporter(typeof(QuietReporter))]
[ApprovalTests.Namers.UseApprovalSubdirectory("Snapshots")]
public class SnapshotTests
{
    [Fact]
    public void Table1_Igcv2_C64() => Verify(Sources.Igcv2C64, "Igcv2.Samples.Igcv2C64.g.cs");

    [Fact]
    public void Small_network_with_stride_2_and_a_width_change() => Verify(Sources.SmallStrided, "Tests.Small.SmallStrided.g.cs");

    [Fact]
    public void IgcV1_network() => Verify(Sources.IgcV1, "Tests.Small.IgcV1Small.g.cs");

    [Fact]
    public void Xception_network() => Verify(Sources.Xception, "Tests.Small.XceptionSmall.g.cs");

    [Fact]
    public void Igcv3_network() => Verify(Igcv3Source, "Tests.Small.Igcv3Small.g.cs");

    [Fact]
    public void Grouped_classifier_head() => Verify(GroupedHeadSource, "Tests.Small.GroupedHeadSmall.g.cs");

    [Fact]
    public void Projection_shortcuts() => Verify(ProjectionSource, "Tests.Small.ProjectionSmall.g.cs");

    [Fact]
    public void Pointwise_stage_and_the_nonlinear_block() => Verify(PointwiseSource, "Tests.Small.PointwiseSmall.g.cs");

    [Fact]
    public void Network_in_the_global_namespace() => Verify(Sources.GlobalNamespace, "GlobalNet.g.cs");

    [Fact]
    public void Rejected_declaration() => Verify(RejectedSource, "Tests.Small.Rejected.g.cs", expectedError: "IGCV001");

    /// <summary>Not dense (IGCV001): the members are written all the same, each throwing why.</summary>
    private const string RejectedSource = """
        using Igcv2;

        namespace Tests.Small;

        [Igcv2Network(InputChannels = 3, InputSize = 16, Classes = 10)]
        [Stem(16)]
        [Stage(16, Blocks = 2, K = [1, 2, 2])]
        public partial class Rejected;
        """;

    private const string Igcv3Source = """
        using Igcv2;

        namespace Tests.Small;

        [Igcv2Network(InputChannels = 3, InputSize = 16, Classes = 10)]
        [Stem(16)]
        [Igcv3Stage(16, Blocks = 1, Expansion = 1, G1 = 1, G2 = 2)]
        [Igcv3Stage(24, Blocks = 2, Expansion = 6, G1 = 2, G2 = 2, Stride = 2)]
        public partial class Igcv3Small;
        """;

    /// <summary>Table 8's IGCV2* head in small: g1 = g2 = 8 over 64 channels, 64 -> 16 classes.</summary>
    private const string GroupedHeadSource = """
        using Igcv2;

        namespace Tests.Small;

        [Igcv2Network(InputChannels = 3, InputSize = 16, Classes = 16)]
        [Stem(32)]
        [Stage(64, Blocks = 1, K = [1, 8, 8], Stride = 2, Nonlinear = true, SkipEvery = 0)]
        [Classifier(K = [8, 8])]
        public partial class GroupedHeadSmall;
        """;

    /// <summary>Xception blocks whose widening, downsampling pair keeps its skip through a 1x1 stride-2 projection.</summary>
    private const string ProjectionSource = """
        using Igcv2;

        namespace Tests.Small;

        [Igcv2Network(InputChannels = 3, InputSize = 8, Classes = 10)]
        [Stem(16)]
        [Stage(16, Blocks = 2, K = [1, 16])]
        [Stage(32, Blocks = 2, K = [1, 32], Stride = 2, Projection = true)]
        public partial class ProjectionSmall;
        """;

    /// <summary>
    /// The paper's ImageNet kinds in small: the nonlinear Figure 5 block (BN + ReLU after the channel-wise 3x3),
    /// and a starred block without the 3x3 (Spatial = false), here MobileNetV2's last 1x1 [1, C].
    /// </summary>
    private const string PointwiseSource = """
        using Igcv2;

        namespace Tests.Small;

        [Igcv2Network(InputChannels = 3, InputSize = 16, Classes = 10)]
        [Stem(16, Stride = 2)]
        [Stage(32, Blocks = 1, K = [1, 4, 4], Stride = 2, Nonlinear = true, SkipEvery = 0)]
        [Stage(64, Blocks = 1, K = [1, 32], Spatial = false, SkipEvery = 0)]
        public partial class PointwiseSmall;
        """;

    private static void Verify(string source, string hintName, string? expectedError = null)
    {
        var run = GeneratorHarness.Run(source);
        run.AssertGeneratorDidNotThrow();
        if (expectedError is null) Assert.Empty(run.OutputErrors);
        else Assert.Equal(expectedError, Assert.Single(run.OutputErrors).Id);
        Approvals.VerifyWithExtension(run.GeneratedSource(hintName), ".cs");
    }
}
