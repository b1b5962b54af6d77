namespace Igcv2.Kernels;

/// <summary>
/// One growing float array per thread, so a work item of a host kernel allocates nothing. A kernel takes it for one
/// item at a time and calls no other kernel meanwhile, so the kernels that use it can share it.
/// </summary>
internal static class ThreadScratch
{
    [ThreadStatic] private static float[]? buffer;

    /// <summary>This thread's array, at least <paramref name="length"/> floats long (contents left from the last use).</summary>
    public static float[] For(int length)
    {
        if (buffer is null || buffer.Length < length) buffer = new float[length];
        return buffer;
    }
}
