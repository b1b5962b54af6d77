using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;

namespace Igcv2.Kernels;

// The group convolutions' ILGPU kernels: grid-stride, one thread per output (forward) or input (backward input)
// element, and one group per weight for its gradient (its threads stride over the samples and positions, ILGPU.Algorithms'
// group Reduce adds them in a fixed tree: deterministic, no atomics).
internal static partial class Convolution
{
    // y[s, co, oy, ox] = sum over the branch's input channels and taps of w * x.
    [DeviceKernel]
    public static void ForwardKernel(Index1D index, ConvGeometry g, int total, int stride,
        ArrayView<float> x, ArrayView<float> w, ArrayView<float> y)
    {
        int k = g.K;
        for (int i = index; i < total; i += stride)
        {
            int ox = i % g.Wo;
            int t = i / g.Wo;
            int oy = t % g.Ho;
            t /= g.Ho;
            int co = t % g.Cout;
            int s = t / g.Cout;
            int branch = co / g.Cog;
            float sum = 0f;
            for (int cil = 0; cil < g.Cig; cil++)
            {
                int xBase = (s * g.Cin + branch * g.Cig + cil) * g.H * g.W;
                int wBase = (co * g.Cig + cil) * k * k;
                for (int ky = 0; ky < k; ky++)
                {
                    int iy = oy * g.Stride + ky - g.Pad;
                    if (iy < 0 || iy >= g.H) continue;
                    for (int kx = 0; kx < k; kx++)
                    {
                        int ix = ox * g.Stride + kx - g.Pad;
                        if (ix < 0 || ix >= g.W) continue;
                        sum += w[wBase + ky * k + kx] * x[xBase + iy * g.W + ix];
                    }
                }
            }
            y[i] = sum;
        }
    }

    // gx[s, ci, iy, ix] = sum over the outputs that read it.
    [DeviceKernel]
    public static void BackwardInputKernel(Index1D index, ConvGeometry g, int total, int stride,
        ArrayView<float> gy, ArrayView<float> w, ArrayView<float> gx)
    {
        int k = g.K;
        for (int i = index; i < total; i += stride)
        {
            int ix = i % g.W;
            int t = i / g.W;
            int iy = t % g.H;
            t /= g.H;
            int ci = t % g.Cin;
            int s = t / g.Cin;
            int branch = ci / g.Cig;
            int cil = ci - branch * g.Cig;
            float sum = 0f;
            for (int col = 0; col < g.Cog; col++)
            {
                int co = branch * g.Cog + col;
                int gyBase = (s * g.Cout + co) * g.Ho * g.Wo;
                int wBase = (co * g.Cig + cil) * k * k;
                for (int ky = 0; ky < k; ky++)
                {
                    int ny = iy + g.Pad - ky;
                    if (ny < 0 || ny % g.Stride != 0) continue;
                    int oy = ny / g.Stride;
                    if (oy >= g.Ho) continue;
                    for (int kx = 0; kx < k; kx++)
                    {
                        int nx = ix + g.Pad - kx;
                        if (nx < 0 || nx % g.Stride != 0) continue;
                        int ox = nx / g.Stride;
                        if (ox >= g.Wo) continue;
                        sum += w[wBase + ky * k + kx] * gy[gyBase + oy * g.Wo + ox];
                    }
                }
            }
            gx[i] = sum;
        }
    }

    // gw[i] = sum over samples and valid output positions of gy * x; group-stride over weights.
    [DeviceKernel]
    public static void BackwardWeightGrouped(ConvGeometry g, int total,
        ArrayView<float> x, ArrayView<float> gy, ArrayView<float> gw)
    {
        int k = g.K;
        for (int i = Grid.IdxX; i < total; i += Grid.DimX)
        {
            int kx = i % k;
            int t = i / k;
            int ky = t % k;
            t /= k;
            int cil = t % g.Cig;
            int co = t / g.Cig;
            int ci = (co / g.Cog) * g.Cig + cil;
            int offY = ky - g.Pad;
            int offX = kx - g.Pad;
            int oy0 = ConvGeometry.RangeStart(offY, g.Stride);
            int ny = ConvGeometry.RangeEnd(offY, g.Stride, g.H, g.Ho) - oy0;
            int ox0 = ConvGeometry.RangeStart(offX, g.Stride);
            int nx = ConvGeometry.RangeEnd(offX, g.Stride, g.W, g.Wo) - ox0;
            int count = ny > 0 && nx > 0 ? g.N * ny * nx : 0;
            float partial = 0f;
            for (int r = Group.IdxX; r < count; r += Group.DimX)
            {
                int ox = ox0 + r % nx;
                int q = r / nx;
                int oy = oy0 + q % ny;
                int s = q / ny;
                partial += gy[((s * g.Cout + co) * g.Ho + oy) * g.Wo + ox]
                    * x[((s * g.Cin + ci) * g.H + oy * g.Stride + offY) * g.W + ox * g.Stride + offX];
            }
            float sum = GroupExtensions.Reduce<float, AddFloat>(partial);
            if (Group.IsFirstThread) gw[i] = sum;
            Group.Barrier();
        }
    }
}
