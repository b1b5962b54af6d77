using SkiaSharp;

namespace Igcv2.Data;

/// <summary>
/// Decodes JPEG (and any other format Skia reads) into RGB CHW bytes; grayscale images become RGB. Give it to
/// <see cref="TinyImageNet.Load(string, DatasetSplit, IImageDecoder)"/>.
/// </summary>
public sealed class SkiaJpegDecoder : IImageDecoder
{
    /// <summary>The decoder; it holds no state, so one serves every thread.</summary>
    public static SkiaJpegDecoder Instance { get; } = new();

    private SkiaJpegDecoder()
    {
    }

    public void Decode(string path, ReadOnlySpan<byte> bytes, Span<byte> destination, int channels, int height, int width)
    {
        if (channels != 3) throw new ArgumentOutOfRangeException(nameof(channels), channels, "Decodes to RGB: 3 channels.");
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data)
            ?? throw new DataFormatException(path, 0, "not a decodable image (no JPEG/PNG signature Skia recognises)");
        if (codec.Info.Width != width || codec.Info.Height != height)
        {
            throw new DataFormatException(path, 0, $"image is {codec.Info.Width}x{codec.Info.Height}, expected {width}x{height}");
        }

        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[width * height * 4];
        SKCodecResult result;
        unsafe
        {
            fixed (byte* p = rgba)
            {
                result = codec.GetPixels(info, (IntPtr)p);
            }
        }

        if (result != SKCodecResult.Success)
        {
            // Skia does not report where the data broke; a short file is the usual cause, so name its end.
            long offset = result == SKCodecResult.IncompleteInput ? bytes.Length : 0;
            throw new DataFormatException(path, offset, $"JPEG decoding failed: {result}");
        }

        int plane = width * height;
        for (int p = 0; p < plane; p++)
        {
            destination[p] = rgba[4 * p];
            destination[plane + p] = rgba[4 * p + 1];
            destination[2 * plane + p] = rgba[4 * p + 2];
        }
    }
}
