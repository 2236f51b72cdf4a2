namespace AutoGrad.Tensors;

/// <summary>
/// One axis of a tensor index, as in <c>x[0, 1..3, ^1]</c>: a position (which removes the axis, as PyTorch's
/// <c>x[0]</c> does) or a range (which keeps it). Made implicitly from an <see cref="int"/>, an <see cref="Index"/>
/// (<c>^1</c>: the last) or a <see cref="Range"/>.
/// </summary>
public readonly struct TensorIndex : IEquatable<TensorIndex>
{
    private readonly Index _position;
    private readonly Range _range;

    private TensorIndex(Index position, Range range, bool isRange)
    {
        _position = position;
        _range = range;
        IsRange = isRange;
    }

    /// <summary>True for a range (the axis stays), false for a position (the axis goes).</summary>
    public bool IsRange { get; }

    /// <summary>A position; negative values count from the end, as in PyTorch (−1 is the last).</summary>
    /// <param name="position">The position.</param>
    public static implicit operator TensorIndex(int position) => FromInt32(position);

    /// <summary>A position, from the start or (<c>^1</c>) from the end.</summary>
    /// <param name="position">The position.</param>
    public static implicit operator TensorIndex(Index position) => FromIndex(position);

    /// <summary>A range of positions; the axis stays.</summary>
    /// <param name="range">The range.</param>
    public static implicit operator TensorIndex(Range range) => FromRange(range);

    /// <summary>Whether two indices select the same way.</summary>
    /// <param name="left">The first.</param>
    /// <param name="right">The second.</param>
    /// <returns>True when equal.</returns>
    public static bool operator ==(TensorIndex left, TensorIndex right) => left.Equals(right);

    /// <summary>Whether two indices select differently.</summary>
    /// <param name="left">The first.</param>
    /// <param name="right">The second.</param>
    /// <returns>True when not equal.</returns>
    public static bool operator !=(TensorIndex left, TensorIndex right) => !left.Equals(right);

    /// <summary>A position; negative values count from the end.</summary>
    /// <param name="position">The position.</param>
    /// <returns>The index.</returns>
    public static TensorIndex FromInt32(int position) =>
        new(position < 0 ? Index.FromEnd(-(long)position > int.MaxValue ? int.MaxValue : -position) : Index.FromStart(position), default, isRange: false);

    /// <summary>A position, from the start or the end.</summary>
    /// <param name="position">The position.</param>
    /// <returns>The index.</returns>
    public static TensorIndex FromIndex(Index position) => new(position, default, isRange: false);

    /// <summary>A range of positions.</summary>
    /// <param name="range">The range.</param>
    /// <returns>The index.</returns>
    public static TensorIndex FromRange(Range range) => new(default, range, isRange: true);

    /// <inheritdoc/>
    public bool Equals(TensorIndex other) => IsRange == other.IsRange && _position.Equals(other._position) && _range.Equals(other._range);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is TensorIndex other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(IsRange, _position, _range);

    /// <inheritdoc/>
    public override string ToString() => IsRange ? _range.ToString() : _position.ToString();

    /// <summary>The first position and the count this index selects along an axis of <paramref name="size"/>, checked.</summary>
    internal (int Start, int Length) Resolve(int size, int axis, Shape shape)
    {
        if (!IsRange)
        {
            var at = _position.IsFromEnd ? size - _position.Value : _position.Value;
            if (at < 0 || at >= size)
            {
                throw new ArgumentOutOfRangeException(
                    "indices", $"Indexer: position {(_position.IsFromEnd ? -_position.Value : _position.Value)} is out of range for axis {axis} of shape {shape} (size {size}).");
            }

            return (at, 1);
        }

        int start = _range.Start.IsFromEnd ? size - _range.Start.Value : _range.Start.Value;
        int end = _range.End.IsFromEnd ? size - _range.End.Value : _range.End.Value;
        if (start < 0 || end > size || start > end)
        {
            throw new ArgumentOutOfRangeException("indices", $"Indexer: range {_range} is out of range for axis {axis} of shape {shape} (size {size}).");
        }

        return (start, end - start);
    }
}
