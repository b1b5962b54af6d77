using Igcv2.Kernels;

namespace Igcv2.Tests.Kernels;

public sealed class DeviceTests
{
    [Theory]
    [InlineData("cpu", DeviceKind.Cpu)]
    [InlineData(" CPU ", DeviceKind.Cpu)]
    [InlineData("cuda", DeviceKind.Cuda)]
    [InlineData("Cuda", DeviceKind.Cuda)]
    [InlineData("gpu", DeviceKind.Cuda)]
    [InlineData("auto", DeviceKind.Auto)]
    [InlineData("", DeviceKind.Auto)]
    [InlineData(null, DeviceKind.Auto)]
    public void Environment_values_parse(string? value, DeviceKind expected) => Assert.Equal(expected, Device.ParseKind(value));

    [Fact]
    public void Unknown_environment_value_names_the_variable_and_the_choices()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Device.ParseKind("bogus"));
        Assert.Contains("IGCV2_DEVICE", error.Message);
        Assert.Contains("bogus", error.Message);
        Assert.Contains("cpu", error.Message);
    }

    [Fact]
    public void Cpu_device_exposes_ops_with_the_host_launcher_by_default()
    {
        using var device = Device.Create(DeviceKind.Cpu);
        Assert.Equal(DeviceKind.Cpu, device.Kind);
        Assert.Equal(CpuLauncher.HostParallel, device.CpuLauncher);
        Assert.Same(device.Ops, device.Ops);
        Assert.Equal(CpuLauncher.HostParallel, device.Ops.Launcher);
    }

    [Fact]
    public void Cuda_without_a_gpu_throws_a_clear_message()
    {
        // Only meaningful where no GPU is visible (this repository's CI); on a GPU machine the device must work.
        try
        {
            using var device = Device.Create(DeviceKind.Cuda);
            Assert.Equal(DeviceKind.Cuda, device.Kind);
        }
        catch (InvalidOperationException error)
        {
            Assert.Contains("no CUDA device", error.Message);
            Assert.Contains("IGCV2_DEVICE=cpu", error.Message);
        }
    }
}
