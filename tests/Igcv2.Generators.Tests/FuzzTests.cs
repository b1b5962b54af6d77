using System.Diagnostics;
using System.Text;
using Microsoft.CodeAnalysis;

namespace Igcv2.Generators.Tests;

/// <summary>
/// The generator never throws, whatever the attributes hold: thousands of random declarations (hostile
/// numbers, empty and huge K arrays, misordered and duplicated layers, half-typed attributes, classes the
/// generator must refuse) go through the driver, a few hundred syntax trees per compilation.
/// </summary>
public class FuzzTests
{
    private const int Declarations = 3000;
    private const int PerCompilation = 300;

    private static readonly int[] Hostile =
        [int.MinValue, -65536, -8, -1, 0, 1, 2, 3, 4, 7, 8, 9, 12, 16, 24, 32, 48, 64, 100, 128, 256, 416, 1024, 65536, 65537, 1 << 20, int.MaxValue];

    private static readonly string[] HalfTyped =
    [
        "[Stage(64, K = [1, 8",
        "[Stage(]",
        "[Stage(",
        "[Stem(]",
        "[Stage(64, K = [1, 8, 8], Blocks = )]",
        "[Stage(64, Q = 3)]",
        "[Stage(64, 3)]",
        "[Stage(\"64\", K = [1, 8, 8])]",
        "[Stage(64, K = [1, 8, 8.5])]",
        "[Stage(64, K = new[] { 1, 8, 8 })]",
        "[Stage(64, K = new int[0])]",
        "[Stage(int.MaxValue + 1, K = [1])]",
        "[Stage(64, K = [1, 8, 8], L = -1)]",
        "[Stage(64, K = [1, 8, 8], Loose = 1)]",
        "[Igcv2Network(InputSize = \"x\")]",
        "[Igcv2Network(Classes = )]",
        "[Igcv2Network(",
        "[Stage(64, K = [1, 8, 8]), Stem(64)]",
        "[Stage(64, K = [1, 8, 8]) Stem(64)]",
        "[Stage(64, K = [, 8, 8])]",
        "[Stage(64, K = [1, 8, 8], K = [1, 8, 8])]",
        "[Stage(Channels = 64)]",
        "[Stage(64, K = default)]",
        "[Stage(64, K = null)]",
        "[Stage(64, K = [..new[] { 1, 8, 8 }])]",
        "[global::Igcv2.Stage(64, K = [1, 8, 8])]",
        "[Igcv2.StageAttribute(64, K = [1, 8, 8])]",
        "[Classifier(K = )]",
        "[Classifier(64)]",
        "[Classifier(K = [8, 8], Loose = \"yes\")]",
    ];

    private static readonly string[] Classes =
    [
        "public partial class Net { }",
        "public partial class Net { }",
        "public partial class Net { }",
        "public partial class Net;",
        "public class Net { }",
        "public static partial class Net { }",
        "public partial class Net<T> { }",
        "public abstract partial class Net { }",
        "public partial record Net;",
        "public partial struct Net { }",
        "public partial class Outer { [Igcv2Network] [Stage(64, K = [1, 8, 8])] public partial class Net { } }",
        "public partial class @class { }",
        "partial class Net",
        "",
    ];

    [Fact]
    public void Random_declarations_never_make_the_generator_throw()
    {
        var random = new Random(20180601);
        var sources = Enumerable.Range(0, Declarations).Select(i => Declaration(random, i)).ToList();
        var clock = Stopwatch.StartNew();
        var generated = 0;
        foreach (var chunk in sources.Chunk(PerCompilation))
        {
            var run = GeneratorHarness.Run(chunk);
            var result = Assert.Single(run.Result.Results);
            Assert.Null(result.Exception);
            Assert.DoesNotContain(run.DriverDiagnostics, d => d.Id is "CS8785" or "AD0001");
            Assert.All(run.Diagnostics, d => Assert.StartsWith("IGCV", d.Id));
            generated += result.GeneratedSources.Length;

            // What the generator writes compiles: no error lies inside a generated file.
            var generatedTrees = result.GeneratedSources.Select(s => s.SyntaxTree).ToHashSet();
            Assert.DoesNotContain(run.Output.GetDiagnostics(), d => d.Severity == DiagnosticSeverity.Error && generatedTrees.Contains(d.Location.SourceTree!));
        }
        Assert.True(generated > Declarations / 50, $"only {generated} networks were generated: the fuzzer no longer reaches the emitter");
        // A guard against runaway work (a hang in path counting or the balance search), not a speed target:
        // the run takes about 20 s alone, and a loaded CI machine must not turn it red.
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(5), $"{Declarations} declarations took {clock.Elapsed}");
    }

    private static string Declaration(Random random, int index)
    {
        var text = new StringBuilder("using Igcv2;\n");
        // One in ten shares a namespace with others: partial declarations of one class across trees.
        text.Append(random.Next(10) == 0 ? "namespace Fuzz.Shared;\n" : $"namespace Fuzz.N{index};\n");

        if (random.Next(3) == 0)
        {
            text.Append(Plausible(random));
            return text.ToString();
        }

        var networkCount = random.Next(10) switch { 0 => 0, 1 => 2, _ => 1 };
        var attributes = new List<string>();
        for (var i = 0; i < networkCount; i++) attributes.Add(NetworkAttribute(random));
        var layers = random.Next(7);
        for (var i = 0; i < layers; i++) attributes.Add(LayerAttribute(random));
        if (random.Next(8) == 0) attributes.Insert(random.Next(attributes.Count + 1), HalfTyped[random.Next(HalfTyped.Length)]);
        if (random.Next(6) == 0) Shuffle(random, attributes);

        foreach (var attribute in attributes) text.Append(attribute).Append('\n');
        text.Append(Classes[random.Next(Classes.Length)]).Append('\n');
        return text.ToString();
    }

    /// <summary>A network that is mostly valid (widths x, 2x, 4x; K = [1, a, C/a]), sometimes with one value broken.</summary>
    private static string Plausible(Random random)
    {
        var width = new[] { 8, 12, 16, 24, 32, 48, 64 }[random.Next(7)];
        var lines = new List<string> { $"[Igcv2Network(InputChannels = {random.Next(1, 4)}, InputSize = {new[] { 1, 4, 7, 8, 32 }[random.Next(5)]}, Classes = {random.Next(1, 20)})]" };
        if (random.Next(4) > 0) lines.Add($"[Stem({width}, Stride = {random.Next(1, 3)})]");
        var stages = random.Next(1, 4);
        for (var s = 0; s < stages; s++)
        {
            var c = width << s;
            var divisors = Enumerable.Range(2, c).Where(d => c % d == 0 && d < c).DefaultIfEmpty(c).ToArray();
            var a = divisors[random.Next(divisors.Length)];
            var k = random.Next(4) switch { 0 => $"[1, {c}]", 1 => $"[2, {c / 2}]", _ => $"[1, {a}, {c / a}]" };
            var options = (s > 0 ? ", Stride = 2" : "") + (random.Next(4) == 0 ? ", Loose = true" : "") + (random.Next(4) == 0 ? ", Nonlinear = true" : "")
                + (random.Next(3) == 0 ? ", Projection = true" : "") + (random.Next(3) == 0 ? ", WidenFirst = true" : "");
            lines.Add($"[Stage({c}, Blocks = {random.Next(1, 4)}, K = {k}{options})]");
        }
        if (random.Next(3) == 0)
        {
            // The IGCV2* head over the last stage's width: Table 8's g1 = g2 = 8 or a random split.
            var c = width << (stages - 1);
            var a = new[] { 2, 4, 8 }[random.Next(3)];
            lines.Add(random.Next(2) == 0 ? $"[Classifier(K = [{c / 8}, {c / 8}])]" : $"[Classifier(K = [{a}, {c / a}]{(random.Next(3) == 0 ? ", Loose = true" : "")})]");
        }
        if (random.Next(5) == 0)
        {
            var i = random.Next(lines.Count);
            lines[i] = System.Text.RegularExpressions.Regex.Replace(lines[i], @"\d+", m => random.Next(3) == 0 ? Small(random) : m.Value);
        }
        return string.Join("\n", lines) + "\n" + Classes[random.Next(4)] + "\n";
    }

    private static string NetworkAttribute(Random random)
    {
        var named = new List<string>();
        if (random.Next(3) > 0) named.Add("InputChannels = " + Small(random));
        if (random.Next(3) > 0) named.Add("InputSize = " + Small(random));
        if (random.Next(3) > 0) named.Add("Classes = " + Small(random));
        return named.Count == 0 && random.Next(2) == 0 ? "[Igcv2Network]" : $"[Igcv2Network({string.Join(", ", named)})]";
    }

    private static string LayerAttribute(Random random)
    {
        if (random.Next(8) == 0)
        {
            return random.Next(4) == 0 ? "[Classifier]" : $"[Classifier(K = {KArray(random)}{(random.Next(3) == 0 ? ", Loose = true" : "")})]";
        }

        if (random.Next(5) == 0)
        {
            return random.Next(3) == 0 ? $"[Stem({Number(random)})]" : $"[Stem({Number(random)}, Stride = {Small(random)})]";
        }

        var arguments = new List<string>();
        if (random.Next(20) > 0) arguments.Add(Number(random));
        if (random.Next(10) > 0) arguments.Add("K = " + KArray(random));
        if (random.Next(2) == 0) arguments.Add("Blocks = " + (random.Next(3) == 0 ? Number(random) : random.Next(1, 4).ToString()));
        if (random.Next(4) == 0) arguments.Add("L = " + Small(random));
        if (random.Next(3) == 0) arguments.Add("Stride = " + Small(random));
        if (random.Next(4) == 0) arguments.Add("SkipEvery = " + Small(random));
        if (random.Next(4) == 0) arguments.Add("Loose = true");
        if (random.Next(4) == 0) arguments.Add("Nonlinear = true");
        if (random.Next(5) == 0) arguments.Add("Spatial = false");
        if (random.Next(4) == 0) arguments.Add("Projection = true");
        if (random.Next(4) == 0) arguments.Add("WidenFirst = true");
        return $"[Stage({string.Join(", ", arguments)})]";
    }

    private static string KArray(Random random)
    {
        switch (random.Next(12))
        {
            case 0: return "[]";
            case 1: return "[" + string.Join(", ", Enumerable.Repeat(1, random.Next(50, 400))) + "]";
            case 2: return "[" + string.Join(", ", Enumerable.Range(0, random.Next(1, 8)).Select(_ => Number(random))) + "]";
            default:
                // Mostly plausible: K_1 in {1, 2}, then divisors of a power of two or of 3*2^n.
                var length = random.Next(1, 5);
                var k = new List<int> { random.Next(3) == 0 ? 2 : 1 };
                for (var i = 1; i < length; i++) k.Add(new[] { 2, 3, 4, 6, 8, 12, 16, 32 }[random.Next(8)]);
                if (random.Next(10) == 0) k[random.Next(k.Count)] = -k[0];
                return "[" + string.Join(", ", k) + "]";
        }
    }

    private static string Number(Random random) => random.Next(4) switch
    {
        0 => Hostile[random.Next(Hostile.Length)].ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => new[] { 8, 12, 16, 24, 32, 48, 64, 96, 128, 256 }[random.Next(10)].ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static string Small(Random random) => random.Next(3) == 0
        ? Hostile[random.Next(Hostile.Length)].ToString(System.Globalization.CultureInfo.InvariantCulture)
        : random.Next(1, 33).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static void Shuffle<T>(Random random, List<T> items)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
