namespace Igcv2.Tests;

/// <summary>
/// The core assembly depends only on what every user needs: the console progress bar, the PNG curves and JPEG
/// decoding live in their add-on packages (.ci/pack-consumer.sh checks the packages' dependencies too).
/// </summary>
public class CorePackageTests
{
    [Theory]
    [InlineData("Spectre.Console")]
    [InlineData("ScottPlot")]
    [InlineData("SkiaSharp")]
    public void The_core_assembly_does_not_reference_an_add_on_library(string library) =>
        Assert.DoesNotContain(typeof(Device).Assembly.GetReferencedAssemblies(), a => a.Name!.StartsWith(library, StringComparison.Ordinal));

    [Theory]
    [InlineData(typeof(global::Igcv2.Training.ConsoleProgressObserver), "Igcv2.Training.Console", "Spectre.Console")]
    [InlineData(typeof(global::Igcv2.Training.PlotObserver), "Igcv2.Training.Plots", "ScottPlot")]
    [InlineData(typeof(global::Igcv2.Data.SkiaJpegDecoder), "Igcv2.Data.Jpeg", "SkiaSharp")]
    public void Each_add_on_carries_its_library(Type type, string assembly, string library)
    {
        Assert.Equal(assembly, type.Assembly.GetName().Name);
        Assert.Contains(type.Assembly.GetReferencedAssemblies(), a => a.Name == library);
    }
}
