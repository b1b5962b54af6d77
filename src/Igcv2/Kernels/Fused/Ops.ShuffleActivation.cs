namespace Igcv2.Kernels;

// The checks of the fused P_l + skip + activation ops; their steps and kernels are in ShuffleActivation.cs beside this.
public sealed partial class Ops
{
    /// <summary>
    /// P_l, the skip add and the activation in one pass (<see cref="Fused.ShuffleActivation"/>):
    /// y[:, o] = act(x[:, src(o)] + skip[:, o]) with src the <see cref="ChannelShuffle"/> of <paramref name="groups"/>
    /// branches. <paramref name="skip"/> may be null (no add) and may be y's own memory; x must not be.
    /// </summary>
    public void ShuffleAddActivation(Tensor x, Tensor? skip, Tensor y, int n, int groups, Design.Activation activation)
    {
        using var timing = Time(nameof(ShuffleAddActivation), x);
        const string op = nameof(ShuffleAddActivation);
        int channels = ShuffleShape(op, x, "x", y, "y", n, groups);
        if (skip is not null) Batched(op, skip, "skip", n, x.Dim(1), x.Dim(2), x.Dim(3));
        backend.Run(new Fused.ShuffleActivation.Forward(n, channels, groups, x.Dim(2) * x.Dim(3), activation, x, skip, y));
    }

    /// <summary>
    /// The backward of <see cref="ShuffleAddActivation"/> in one pass: m = gy * act'(y); gSkip = m (when not null);
    /// gx[:, o] = m[:, src(o)] with src the <see cref="ChannelShuffle"/> of <paramref name="groups"/> branches, the
    /// inverse permutation's (C / the forward groups).
    /// </summary>
    public void ActivationBackwardShuffle(Tensor y, Tensor gy, Tensor gx, Tensor? gSkip, int n, int groups, Design.Activation activation)
    {
        using var timing = Time(nameof(ActivationBackwardShuffle), gy);
        const string op = nameof(ActivationBackwardShuffle);
        int channels = ShuffleShape(op, gy, "gy", gx, "gx", n, groups);
        Batched(op, y, "y", n, gy.Dim(1), gy.Dim(2), gy.Dim(3));
        NotSame(op, y, "y", gx, "gx");
        if (gSkip is not null)
        {
            Batched(op, gSkip, "gSkip", n, gy.Dim(1), gy.Dim(2), gy.Dim(3));
            NotSame(op, gy, "gy", gSkip, "gSkip");
            NotSame(op, gx, "gx", gSkip, "gSkip");
        }
        backend.Run(new Fused.ShuffleActivation.Backward(n, channels, groups, gy.Dim(2) * gy.Dim(3), activation, y, gy, gx, gSkip));
    }

    /// <summary>The checks a permutation op shares with <see cref="ChannelShuffle"/>; returns the channel count.</summary>
    private int ShuffleShape(string op, Tensor x, string xName, Tensor y, string yName, int n, int groups)
    {
        Image(op, x, xName, n);
        int channels = x.Dim(1);
        if (groups <= 0 || channels % groups != 0)
        {
            throw new ArgumentException($"{op}: groups = {groups} must be positive and divide the {channels} channels of {xName} {x.ShapeText}.", nameof(groups));
        }
        Batched(op, y, yName, n, x.Dim(1), x.Dim(2), x.Dim(3));
        NotSame(op, x, xName, y, yName);
        return channels;
    }
}
