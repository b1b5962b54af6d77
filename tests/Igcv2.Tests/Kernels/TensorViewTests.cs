using Igcv2.Kernels;

namespace Igcv2.Tests.Kernels;

[Collection(KernelCollection.Name)]
public sealed class TensorViewTests(KernelFixture fixture)
{
    public static TheoryData<CpuLauncher> Launchers() => new(T.Launchers);

    [Theory]
    [MemberData(nameof(Launchers))]
    public void Reshape_shares_memory_both_ways(CpuLauncher launcher)
    {
        var device = fixture.For(launcher);
        using var owner = T.Random(device, new Random(40), 3, 4);
        using var view = owner.Reshape(3, 4, 1, 1);
        Assert.Equal([3, 4, 1, 1], view.Shape);
        Assert.Equal(owner.Length, view.Length);
        Assert.True(view.IsView);
        Assert.False(owner.IsView);
        Assert.Equal(owner.ToArray(), view.ToArray());

        var throughView = Enumerable.Range(0, 12).Select(i => (float)i).ToArray();
        view.CopyFrom(throughView);
        Assert.Equal(throughView, owner.ToArray());

        var throughOwner = Enumerable.Range(0, 12).Select(i => -2f * i).ToArray();
        owner.CopyFrom(throughOwner);
        Assert.Equal(throughOwner, view.ToArray());

        // Kernels write through a view as well.
        device.Ops.Fill(view, 7f);
        Assert.All(owner.ToArray(), v => Assert.Equal(7f, v));
    }

    [Fact]
    public void Reshape_to_a_different_length_names_both_shapes()
    {
        using var owner = fixture.Host.Allocate(3, 4);
        var error = Assert.Throws<ArgumentException>(() => owner.Reshape(3, 5));
        Assert.Equal("shape", error.ParamName);
        Assert.Contains("[3, 5]", error.Message);
        Assert.Contains("[3, 4]", error.Message);
    }

    [Theory]
    [InlineData(new[] { 12, 0 })]
    [InlineData(new[] { -3, -4 })]
    [InlineData(new int[0])]
    public void Reshape_rejects_non_positive_dimensions(int[] shape)
    {
        using var owner = fixture.Host.Allocate(3, 4);
        var error = Assert.Throws<ArgumentException>(() => owner.Reshape(shape));
        Assert.Contains("positive", error.Message);
        Assert.Contains($"[{string.Join(", ", shape)}]", error.Message);
        Assert.Contains("[3, 4]", error.Message);
    }

    [Theory]
    [MemberData(nameof(Launchers))]
    public void Disposing_a_view_leaves_the_owner_usable(CpuLauncher launcher)
    {
        var device = fixture.For(launcher);
        using var owner = T.Random(device, new Random(41), 2, 6);
        var expected = owner.ToArray();
        var view = owner.Reshape(12);
        view.Dispose();

        Assert.True(view.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => view.ToArray());
        Assert.False(owner.IsDisposed);
        Assert.Equal(expected, owner.ToArray());
        device.Ops.Fill(owner, 1f);
        using var again = owner.Reshape(3, 4);
        Assert.All(again.ToArray(), v => Assert.Equal(1f, v));
    }

    [Theory]
    [MemberData(nameof(Launchers))]
    public void Disposing_the_owner_makes_its_views_throw(CpuLauncher launcher)
    {
        var device = fixture.For(launcher);
        var owner = device.Allocate(2, 6);
        using var view = owner.Reshape(12);
        using var viewOfView = view.Reshape(2, 3, 2);
        owner.Dispose();

        foreach (var t in new[] { view, viewOfView })
        {
            Assert.True(t.IsDisposed);
            Assert.Throws<ObjectDisposedException>(() => t.ToArray());
            Assert.Throws<ObjectDisposedException>(() => t.CopyFrom(new float[12]));
            Assert.Throws<ObjectDisposedException>(() => t.View);
            Assert.Throws<ObjectDisposedException>(() => t.Reshape(12));
            Assert.Throws<ObjectDisposedException>(() => device.Ops.Fill(t, 0f));
        }
        Assert.Throws<ObjectDisposedException>(() => view.HostSpan.Length);
    }

    [Fact]
    public void A_view_of_a_view_refers_to_the_owner()
    {
        var device = fixture.Host;
        var owner = device.Allocate(2, 6);
        var view = owner.Reshape(12);
        using var viewOfView = view.Reshape(4, 3);

        // Disposing the middle view does not reach its own views: they hang off the owner.
        view.Dispose();
        Assert.False(viewOfView.IsDisposed);
        viewOfView.CopyFrom(Enumerable.Range(0, 12).Select(i => (float)i).ToArray());
        Assert.Equal(11f, owner.ToArray()[11]);

        owner.Dispose();
        Assert.True(viewOfView.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => viewOfView.ToArray());
    }

    [Theory]
    [MemberData(nameof(Launchers))]
    public void Grouped_head_on_views_matches_a_block_diagonal_linear(CpuLauncher launcher)
    {
        // The grouped classifier head: pooled features [N, C] viewed as [N, C, 1, 1], a 1x1 group convolution
        // to [N, K, 1, 1], viewed as logits [N, K], and the bias added in place.
        const int Batch = 5, N = 3, C = 12, K = 8, Groups = 4;
        var device = fixture.For(launcher);
        var random = new Random(42);
        using var pooled = T.Random(device, random, Batch, C);
        using var w = T.Random(device, random, K, C / Groups, 1, 1);
        using var b = T.Random(device, random, K);
        using var output = T.Poisoned(device, Batch, K, 1, 1);
        using var input = pooled.Reshape(Batch, C, 1, 1);
        using var logits = output.Reshape(Batch, K);

        device.Ops.Conv2d(input, w, output, N, Groups, stride: 1);
        device.Ops.AddBias(logits, b, logits, N);

        // Output channel o of group g reads the C/G input channels of group g: a block-diagonal [K, C] weight.
        var ws = T.D(w);
        var dense = new double[K * C];
        for (int o = 0; o < K; o++)
        {
            int g = o / (K / Groups);
            for (int j = 0; j < C / Groups; j++) dense[o * C + g * (C / Groups) + j] = ws[o * (C / Groups) + j];
        }
        var ys = logits.ToArray();
        T.Close(Reference.Linear(T.D(pooled), dense, T.D(b), N, C, K), ys, 1e-5, "logits");
        T.Untouched(ys, N * K, "logits");
        Assert.Equal(ys, output.ToArray());
    }

    [Fact]
    public void Ops_treat_a_view_of_an_input_as_the_same_tensor()
    {
        var device = fixture.Host;
        using var x = device.Allocate(2, 4);
        using var w = device.Allocate(4, 4);
        using var b = device.Allocate(4);
        using var y = x.Reshape(2, 4);
        var error = Assert.Throws<ArgumentException>(() => device.Ops.Linear(x, w, b, y, 2));
        Assert.Equal("y", error.ParamName);
        Assert.Contains("Linear: y must not be the same tensor as x", error.Message);
    }
    [Theory]
    [MemberData(nameof(Launchers))]
    public void Slices_are_disjoint_windows_of_the_owner_that_kernels_and_copies_respect(CpuLauncher launcher)
    {
        var device = fixture.For(launcher);
        using var owner = device.Allocate(10);
        owner.CopyFrom(Enumerable.Range(0, 10).Select(i => (float)i).ToArray());
        using var first = owner.Slice(0, 2, 2);
        using var second = owner.Slice(4, 3, 2);
        Assert.Equal([0f, 1, 2, 3], first.ToArray());
        Assert.Equal([4f, 5, 6, 7, 8, 9], second.ToArray());
        Assert.True(second.IsView);

        device.Ops.Fill(second, -1f);
        second.Reshape(6).Slice(1, 2).CopyFrom([20f, 30f]);
        Assert.Equal([0f, 1, 2, 3, -1, 20, 30, -1, -1, -1], owner.ToArray());

        // Disjoint slices of one owner are different tensors to the aliasing checks; overlapping ones are not.
        Assert.False(first.SharesMemory(second));
        Assert.True(owner.SharesMemory(second));
        using var overlapping = owner.Slice(3, 2);
        Assert.True(overlapping.SharesMemory(first) && overlapping.SharesMemory(second));
    }

    [Fact]
    public void A_slice_outside_the_tensor_names_its_shape_and_start()
    {
        using var owner = fixture.Host.Allocate(3, 4);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => owner.Slice(10, 3));
        Assert.Contains("[3] at element 10", error.Message);
        Assert.Contains("[3, 4]", error.Message);
    }
}
