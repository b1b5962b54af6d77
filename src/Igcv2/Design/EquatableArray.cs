using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;

namespace Igcv2.Design;

/// <summary>
/// An immutable array compared by its elements. The generator's pipeline caches on value equality, so
/// every model it carries (and every plan the runtime builds from the same code) uses this instead of T[].
/// </summary>
public readonly struct EquatableArray<T> : IEquatable<EquatableArray<T>>, IReadOnlyList<T>

{
    private readonly T[]? items;

    public EquatableArray(T[] items) => this.items = items;

    public EquatableArray(IEnumerable<T> items) => this.items = items.ToArray();

    public static EquatableArray<T> Empty => new(Array.Empty<T>());

    public int Count => items?.Length ?? 0;

    public T this[int index] => (items ?? Array.Empty<T>())[index];

    public T[] ToArray() => items is null ? Array.Empty<T>() : (T[])items.Clone();

    public bool Equals(EquatableArray<T> other)
    {
        var a = items ?? Array.Empty<T>();
        var b = other.items ?? Array.Empty<T>();
        if (a.Length != b.Length) return false;
        for (var i = 0; i < a.Length; i++)
        {
            if (!EqualityComparer<T>.Default.Equals(a[i], b[i])) return false;
        }
        return true;
    }

    public override bool Equals(object? obj) => obj is EquatableArray<T> other && Equals(other);

    public override int GetHashCode()
    {
        unchecked
        {
            var hash = 17;
            foreach (var item in items ?? Array.Empty<T>())
            {
                hash = hash * 31 + (item is null ? 0 : item.GetHashCode());
            }
            return hash;
        }
    }

    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)(items ?? Array.Empty<T>())).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public static bool operator ==(EquatableArray<T> left, EquatableArray<T> right) => left.Equals(right);

    public static bool operator !=(EquatableArray<T> left, EquatableArray<T> right) => !left.Equals(right);

    /// <summary>"[1, 8, 8]", the way the paper and the attributes write K.</summary>
    public override string ToString() => "[" + string.Join(", ", (items ?? Array.Empty<T>()).Select(i => i?.ToString())) + "]";
}

public static class EquatableArray
{
    public static EquatableArray<T> Create<T>(params T[] items) => new(items);

    public static EquatableArray<T> ToEquatableArray<T>(this IEnumerable<T> items) => new(items);
}
