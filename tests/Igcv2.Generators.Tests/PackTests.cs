using System.Diagnostics;

namespace Igcv2.Generators.Tests;

/// <summary>
/// The shipped core package carries the generator and the code fixes, and none of the add-ons' libraries:
/// .ci/pack-consumer.sh packs src/Igcv2 and its add-ons, builds a console
/// project outside the repo that references only that package, and runs it.
/// </summary>
public class PackTests
{
    [Fact]
    [Trait("Category", "Pack")]
    public async Task The_package_alone_generates_a_network_in_a_consumer_project()
    {
        if (OperatingSystem.IsWindows()) return; // the script is bash; CI runs on Linux

        var script = Path.Combine(GeneratorHarness.RepoRoot(), ".ci", "pack-consumer.sh");
        var start = new ProcessStartInfo("bash", [script])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(12));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("pack-consumer.sh ran over 12 minutes (a hang guard, not a timing: the pack, restore and build take 1-4 minutes on a 2-core machine, more while other test projects build beside it)");
        }
        var output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, output);
        Assert.Contains("analyzers/dotnet/cs/Igcv2.Generators.dll", output);
        Assert.Contains("ParameterCount = 1370", output);
        Assert.Contains("analyzers/dotnet/cs/Igcv2.CodeFixes.dll", output);
        Assert.Contains("brings no console, plot or image library", output);
    }
}
