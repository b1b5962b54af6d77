using System;
using System.Globalization;
using System.Text;

namespace Igcv2.Generators;

/// <summary>An indented text writer for generated source; numbers always in the invariant culture.</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder text = new();
    private int depth;

    public SourceWriter Line(string line = "")
    {
        if (line.Length > 0) text.Append(' ', depth * 4).Append(line);
        text.Append('\n');
        return this;
    }

    public SourceWriter Line(FormattableString line) => Line(line.ToString(CultureInfo.InvariantCulture));

    public IDisposable Block(string header)
    {
        Line(header);
        Line("{");
        depth++;
        return new Closer(this, "}");
    }

    /// <summary>The header, then indented lines until disposed, then <paramref name="closing"/> (no braces).</summary>
    public IDisposable Indented(string header, string closing)
    {
        Line(header);
        depth++;
        return new Closer(this, closing);
    }

    /// <summary>Appends text written by another writer, indented to this writer's depth.</summary>
    public SourceWriter Raw(string written)
    {
        foreach (var line in written.TrimEnd('\n').Split('\n')) Line(line);
        return this;
    }

    public override string ToString() => text.ToString();

    /// <summary>A C# string literal.</summary>
    public static string Literal(string value)
    {
        var escaped = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            escaped.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                _ => c.ToString(),
            });
        }
        return escaped.Append('"').ToString();
    }

    private sealed class Closer(SourceWriter writer, string closing) : IDisposable
    {
        public void Dispose()
        {
            writer.depth--;
            writer.Line(closing);
        }
    }
}
