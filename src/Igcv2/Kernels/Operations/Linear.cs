using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using Buf = Igcv2.Kernels.HostKernels.Buf;

namespace Igcv2.Kernels;

public sealed partial class Ops
{
    /// <summary>x [N, In], w [Out, In], b [Out] -> y [N, Out] = x w^T + b.</summary>
    public void Linear(Tensor x, Tensor w, Tensor b, Tensor y, int n)
    {
        using var timing = Time(nameof(Linear), w);
        const string op = nameof(Linear);
        var (inputs, outputs) = LinearShape(op, x, "x", w, b, n);
        Batched(op, y, "y", n, outputs);
        NotSame(op, x, "x", y, "y");
        backend.Run(new Classifier.Forward(n, inputs, outputs, x, w, b, y));
    }

    /// <summary>Gradients of <see cref="Linear"/>: gx = gy w, gw = gy^T x, gb = column sums of gy (over n samples).</summary>
    public void LinearBackward(Tensor x, Tensor w, Tensor gy, Tensor gx, Tensor gw, Tensor gb, int n)
    {
        using var timing = Time(nameof(LinearBackward), w);
        const string op = nameof(LinearBackward);
        var (inputs, outputs) = LinearShape(op, x, "x", w, null, n);
        Batched(op, gy, "gy", n, outputs);
        Batched(op, gx, "gx", n, x.Shape[1..]);
        Exact(op, gw, "gw", outputs, inputs);
        Exact(op, gb, "gb", outputs);
        NotSame(op, gy, "gy", gx, "gx");
        backend.Run(new Classifier.Backward(n, inputs, outputs, x, w, gy, gx, gw, gb));
    }

    /// <summary>
    /// x [N, F], b [F] -> y [N, F] = x + b, the bias after a classifier that has none (e.g. 1x1 group
    /// convolutions on [N, C, 1, 1] viewed as [N, F] with <see cref="Tensor.Reshape"/>). x and y may be the
    /// same tensor (or views of the same memory): each element is read before it is written.
    /// </summary>
    public void AddBias(Tensor x, Tensor b, Tensor y, int n)
    {
        using var timing = Time(nameof(AddBias), x);
        const string op = nameof(AddBias);
        int features = Features(op, x, "x", n);
        Exact(op, b, "b", features);
        Batched(op, y, "y", n, features);
        NotSame(op, b, "b", y, "y");
        backend.Run(new Classifier.AddBias(n, features, x, b, y));
    }

    /// <summary>Gradient of <see cref="AddBias"/> with respect to b: gb [F] = the column sums of gy [N, F] over n samples (one worker owns a feature).</summary>
    public void BiasBackward(Tensor gy, Tensor gb, int n)
    {
        using var timing = Time(nameof(BiasBackward), gy);
        const string op = nameof(BiasBackward);
        int features = Features(op, gy, "gy", n);
        Exact(op, gb, "gb", features);
        NotSame(op, gy, "gy", gb, "gb");
        backend.Run(new Classifier.BiasBackward(n, features, gy, gb));
    }
}

/// <summary>
/// The fully connected classifier of Table 1's last row, y = x w^T + b, its gradients, and the bias alone (for
/// heads that are 1x1 group convolutions). Both bodies sum a weight's gradient over the samples in float, in sample
/// order, and a bias's in double; y and gx are float dot products.
/// </summary>
internal static class Classifier
{
    public readonly record struct Forward(int N, int Inputs, int Outputs, Tensor X, Tensor W, Tensor B, Tensor Y) : IKernel
    {
        public void OnHost()
        {
            var (x, w, b, y, inputs, outputs) = (new Buf(X), new Buf(W), new Buf(B), new Buf(Y), Inputs, Outputs);
            HostKernels.ForPlanes(N, (long)inputs * outputs, s =>
            {
                var xs = x.Slice(s * inputs, inputs);
                var ys = y.Slice(s * outputs, outputs);
                var bs = b.Span;
                for (int o = 0; o < outputs; o++) ys[o] = HostKernels.Dot(xs, w.Slice(o * inputs, inputs)) + bs[o];
            });
        }

        public void OnDevice(Backend backend)
        {
            int total = N * Outputs;
            var kernel = backend.Load(static a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ForwardKernel));
            kernel(backend.Threads(total), total, backend.Threads(total), Inputs, Outputs, X.Flat, W.Flat, B.Flat, Y.Flat);
        }
    }

    public readonly record struct Backward(int N, int Inputs, int Outputs, Tensor X, Tensor W, Tensor Gy, Tensor Gx, Tensor Gw, Tensor Gb) : IKernel
    {
        public void OnHost()
        {
            var (x, w, gy, gx, gw, gb, n, inputs, outputs) = (new Buf(X), new Buf(W), new Buf(Gy), new Buf(Gx), new Buf(Gw), new Buf(Gb), N, Inputs, Outputs);
            HostKernels.ForPlanes(n, (long)inputs * outputs, s =>
            {
                var gxs = gx.Slice(s * inputs, inputs);
                gxs.Clear();
                var gys = gy.Slice(s * outputs, outputs);
                for (int o = 0; o < outputs; o++) HostKernels.Axpy(gys[o], w.Slice(o * inputs, inputs), gxs);
            });
            HostKernels.ForPlanes(outputs, (long)n * inputs, o =>
            {
                var gws = gw.Slice(o * inputs, inputs);
                gws.Clear();
                var gys = gy.Span;
                double bias = 0.0;
                for (int s = 0; s < n; s++)
                {
                    float g = gys[s * outputs + o];
                    bias += g;
                    HostKernels.Axpy(g, x.Slice(s * inputs, inputs), gws);
                }
                gb.Span[o] = (float)bias;
            });
        }

        public void OnDevice(Backend backend)
        {
            int total = N * Inputs;
            var input = backend.Load(static a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>(BackwardInputKernel));
            input(backend.Threads(total), total, backend.Threads(total), Inputs, Outputs, W.Flat, Gy.Flat, Gx.Flat);
            int items = Outputs * Inputs + Outputs;
            var parameters = backend.Load(static a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(BackwardParametersKernel));
            parameters(backend.Threads(items), items, backend.Threads(items), N, Inputs, Outputs, X.Flat, Gy.Flat, Gw.Flat, Gb.Flat);
        }
    }

    public readonly record struct AddBias(int N, int Features, Tensor X, Tensor B, Tensor Y) : IKernel
    {
        public void OnHost()
        {
            var (x, b, y, features) = (new Buf(X), new Buf(B), new Buf(Y), Features);
            HostKernels.ForPlanes(N, features, s =>
            {
                var xs = x.Slice(s * features, features);
                var ys = y.Slice(s * features, features);
                var bs = b.Span;
                int i = 0;
                for (; i <= features - Vector<float>.Count; i += Vector<float>.Count)
                {
                    (new Vector<float>(xs.Slice(i)) + new Vector<float>(bs.Slice(i))).CopyTo(ys.Slice(i));
                }
                for (; i < features; i++) ys[i] = xs[i] + bs[i];
            });
        }

        public void OnDevice(Backend backend)
        {
            int total = N * Features;
            var kernel = backend.Load(static a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>(AddBiasKernel));
            kernel(backend.Threads(total), total, backend.Threads(total), Features, X.Flat, B.Flat, Y.Flat);
        }
    }

    public readonly record struct BiasBackward(int N, int Features, Tensor Gy, Tensor Gb) : IKernel
    {
        public void OnHost()
        {
            var (gy, gb, n, features) = (new Buf(Gy), new Buf(Gb), N, Features);
            HostKernels.ForPlanes(features, n, f =>
            {
                var gys = gy.Span;
                double sum = 0.0;
                for (int s = 0; s < n; s++) sum += gys[s * features + f];
                gb.Span[f] = (float)sum;
            });
        }

        public void OnDevice(Backend backend)
        {
            var kernel = backend.Load(static a => a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, ArrayView<float>, ArrayView<float>>(BiasBackwardKernel));
            kernel(backend.Threads(Features), Features, backend.Threads(Features), N, Gy.Flat, Gb.Flat);
        }
    }

    // y[s, o] = b[o] + sum_i x[s, i] w[o, i]
    [DeviceKernel]
    public static void ForwardKernel(Index1D index, int total, int stride, int inputs, int outputs,
        ArrayView<float> x, ArrayView<float> w, ArrayView<float> b, ArrayView<float> y)
    {
        for (int i = index; i < total; i += stride)
        {
            int o = i % outputs;
            int s = i / outputs;
            float sum = 0f;
            for (int j = 0; j < inputs; j++) sum += x[s * inputs + j] * w[o * inputs + j];
            y[i] = sum + b[o];
        }
    }

    // gx[s, j] = sum_o gy[s, o] w[o, j]
    [DeviceKernel]
    public static void BackwardInputKernel(Index1D index, int total, int stride, int inputs, int outputs,
        ArrayView<float> w, ArrayView<float> gy, ArrayView<float> gx)
    {
        for (int i = index; i < total; i += stride)
        {
            int j = i % inputs;
            int s = i / inputs;
            float sum = 0f;
            for (int o = 0; o < outputs; o++) sum += gy[s * outputs + o] * w[o * inputs + j];
            gx[i] = sum;
        }
    }

    // Items [0, outputs*inputs) are weights gw[o, j] = sum_s gy[s, o] x[s, j] (float, in sample order, as the host's
    // Axpy adds them); the last `outputs` items are biases (double).
    [DeviceKernel]
    public static void BackwardParametersKernel(Index1D index, int total, int stride, int n, int inputs, int outputs,
        ArrayView<float> x, ArrayView<float> gy, ArrayView<float> gw, ArrayView<float> gb)
    {
        int weights = outputs * inputs;
        for (int i = index; i < total; i += stride)
        {
            if (i < weights)
            {
                int j = i % inputs;
                int o = i / inputs;
                float sum = 0f;
                for (int s = 0; s < n; s++) sum += gy[s * outputs + o] * x[s * inputs + j];
                gw[i] = sum;
            }
            else
            {
                int o = i - weights;
                double sum = 0.0;
                for (int s = 0; s < n; s++) sum += gy[s * outputs + o];
                gb[o] = (float)sum;
            }
        }
    }

    // y[s, f] = x[s, f] + b[f]; x and y may be one view (each element is read, then written, by its thread).
    [DeviceKernel]
    public static void AddBiasKernel(Index1D index, int total, int stride, int features,
        ArrayView<float> x, ArrayView<float> b, ArrayView<float> y)
    {
        for (int i = index; i < total; i += stride) y[i] = x[i] + b[i % features];
    }

    // One thread owns a feature: gb[f] = sum_s gy[s, f].
    [DeviceKernel]
    public static void BiasBackwardKernel(Index1D index, int features, int stride, int n, ArrayView<float> gy, ArrayView<float> gb)
    {
        for (int f = index; f < features; f += stride)
        {
            double sum = 0.0;
            for (int s = 0; s < n; s++) sum += gy[s * features + f];
            gb[f] = (float)sum;
        }
    }
}
