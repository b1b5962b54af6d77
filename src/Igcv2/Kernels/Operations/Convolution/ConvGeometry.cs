namespace Igcv2.Kernels;

/// <summary>
/// The shape of one group convolution, passed by value to kernels (host and ILGPU alike).
/// Square kernel K, padding K/2, stride 1 or 2; branch g maps input channels [g*Cig, (g+1)*Cig)
/// to output channels [g*Cog, (g+1)*Cog).
/// </summary>
public readonly struct ConvGeometry
{
    public ConvGeometry(int n, int cin, int h, int w, int cout, int k, int groups, int stride)
    {
        N = n;
        Cin = cin;
        H = h;
        W = w;
        Cout = cout;
        K = k;
        Pad = k / 2;
        Stride = stride;
        Groups = groups;
        Cig = cin / groups;
        Cog = cout / groups;
        Ho = (h - 1) / stride + 1;
        Wo = (w - 1) / stride + 1;
    }

    public int N { get; }
    public int Cin { get; }
    public int H { get; }
    public int W { get; }
    public int Cout { get; }
    public int K { get; }
    public int Pad { get; }
    public int Stride { get; }
    public int Groups { get; }
    public int Cig { get; }
    public int Cog { get; }
    public int Ho { get; }
    public int Wo { get; }

    /// <summary>First output index o with o*stride + offset >= 0 (offset = kernel tap - pad).</summary>
    public static int RangeStart(int offset, int stride) => offset >= 0 ? 0 : (-offset + stride - 1) / stride;

    /// <summary>One past the last output index o &lt; outSize with o*stride + offset &lt; inSize.</summary>
    public static int RangeEnd(int offset, int stride, int inSize, int outSize)
    {
        int last = inSize - 1 - offset;
        if (last < 0) return 0;
        int end = last / stride + 1;
        return end < outSize ? end : outSize;
    }
}
