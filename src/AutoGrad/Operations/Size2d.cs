namespace AutoGrad.Operations;

/// <summary>
/// A (height, width) pair: a kernel, a stride, a padding or a dilation. A single number means the same for both, as
/// in PyTorch, so <c>stride: 2</c> and <c>stride: (2, 1)</c> both work.
/// </summary>
/// <param name="Height">The vertical size.</param>
/// <param name="Width">The horizontal size.</param>
public readonly record struct Size2d(int Height, int Width)
{
    /// <summary>The same size in both directions.</summary>
    /// <param name="both">The size.</param>
    public static implicit operator Size2d(int both) => new(both, both);

    /// <summary>A (height, width) tuple.</summary>
    /// <param name="pair">The sizes.</param>
    public static implicit operator Size2d((int Height, int Width) pair) => new(pair.Height, pair.Width);

    /// <summary>The same size in both directions (the named form of the conversion from <see cref="int"/>).</summary>
    /// <param name="both">The size.</param>
    /// <returns>The pair.</returns>
    public static Size2d Square(int both) => new(both, both);

    /// <summary>A (height, width) tuple as a pair (the named form of the conversion from a tuple).</summary>
    /// <param name="pair">The sizes.</param>
    /// <returns>The pair.</returns>
    public static Size2d FromValueTuple((int Height, int Width) pair) => new(pair.Height, pair.Width);

    /// <summary>Formats as (height, width).</summary>
    /// <returns>For example <c>(3, 3)</c>.</returns>
    public override string ToString() => $"({Height}, {Width})";
}
