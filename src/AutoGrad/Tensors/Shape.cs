using System.Runtime.CompilerServices;

namespace AutoGrad.Tensors;

/// <summary>
/// The dimensions of a dense row-major tensor. Immutable; a rank-0 shape is a scalar with one element.
/// </summary>
[CollectionBuilder(typeof(Shape), nameof(Create))]
public readonly struct Shape : IEquatable<Shape>
{
    private static readonly int[] s_empty = [];
    private readonly int[]? _dims;

    private Shape(int[] dims, int elementCount)
    {
        _dims = dims;
        ElementCount = elementCount;
    }

    /// <summary>Rebuilds a shape from the parts a tensor keeps (see <see cref="DimsArray"/>).</summary>
    internal static Shape FromParts(int[]? dims, int elementCount) => new(dims ?? s_empty, elementCount);

    /// <summary>The array behind <see cref="Dims"/>, shared, never changed.</summary>
    internal int[]? DimsArray => _dims;

    /// <summary>The shape of a scalar: rank 0, one element.</summary>
    public static Shape Scalar => new(s_empty, 1);

    /// <summary>The number of dimensions.</summary>
    public int Rank => _dims?.Length ?? 0;

    /// <summary>The number of elements: the product of the dimensions (1 for a scalar).</summary>
    public int ElementCount { get; }

    /// <summary>The dimensions as a span.</summary>
    public ReadOnlySpan<int> Dims => _dims;

    /// <summary>The size of dimension <paramref name="axis"/>; a negative axis counts from the end.</summary>
    /// <param name="axis">The dimension, from <c>-Rank</c> to <c>Rank - 1</c>.</param>
    public int this[int axis] => Dims[NormalizeAxis(axis, "Shape")];

    /// <summary>Creates a shape, checking that no dimension is negative and the element count fits in an array.</summary>
    /// <param name="dims">The dimensions, outermost first.</param>
    /// <returns>The shape.</returns>
    /// <exception cref="ArgumentException">A dimension is negative.</exception>
    /// <exception cref="ShapeMismatchException">There are more than <see cref="Array.MaxLength"/> elements.</exception>
    public static Shape Create(ReadOnlySpan<int> dims) => Create(dims, "Shape");

    /// <inheritdoc cref="Create(ReadOnlySpan{int})"/>
    /// <param name="dims">The dimensions, outermost first.</param>
    /// <param name="op">The operation to name in the exception.</param>
    internal static Shape Create(ReadOnlySpan<int> dims, string op)
    {
        if (dims.Length == 0)
        {
            return Scalar;
        }

        foreach (var d in dims)
        {
            if (d < 0)
            {
                throw new ArgumentException($"{op}: shape {Format(dims)} has a negative dimension.", nameof(dims));
            }
        }

        return new Shape(dims.ToArray(), CheckedCount(dims, op, null, null));
    }

    /// <summary>
    /// Wraps an array of non-negative dimensions the caller promises never to change, after checking that its
    /// element count, computed in 64 bits, fits in an array: the one door through which every op makes a new shape.
    /// </summary>
    /// <param name="dims">The dimensions.</param>
    /// <param name="op">The operation to name in the exception.</param>
    /// <param name="a">The first input's shape, for the message.</param>
    /// <param name="b">The second input's shape, for the message.</param>
    /// <exception cref="ShapeMismatchException">The result would have more than <see cref="Array.MaxLength"/> elements.</exception>
    internal static Shape FromOwned(int[] dims, string op, Shape? a = null, Shape? b = null) =>
        dims.Length == 0 ? Scalar : new Shape(dims, CheckedCount(dims, op, a, b));

    /// <summary>
    /// <see cref="FromOwned"/> for dimensions the caller holds on the stack (an op's <c>[n, c, h, w]</c>): the array
    /// behind the shape comes from a small per-thread table of recent shapes when an equal one is there, so an op
    /// whose output shape recurs every training step allocates no array for it. Shapes never change their arrays,
    /// which is what makes sharing one safe.
    /// </summary>
    /// <param name="dims">The dimensions.</param>
    /// <param name="op">The operation to name in the exception.</param>
    /// <param name="a">The first input's shape, for the message.</param>
    /// <param name="b">The second input's shape, for the message.</param>
    /// <exception cref="ShapeMismatchException">The result would have more than <see cref="Array.MaxLength"/> elements.</exception>
    internal static Shape FromDims(ReadOnlySpan<int> dims, string op, Shape? a = null, Shape? b = null)
    {
        if (dims.Length == 0)
        {
            return Scalar;
        }

        var count = CheckedCount(dims, op, a, b);
        return new Shape(RecentShapes.Intern(dims), count);
    }

    /// <summary>The product of the dimensions in 64 bits, or the library's exception when it exceeds an array's reach.</summary>
    private static int CheckedCount(ReadOnlySpan<int> dims, string op, Shape? a, Shape? b)
    {
        long count = 1;
        foreach (var d in dims)
        {
            // A zero anywhere makes the product 0, however large the rest.
            if (d == 0)
            {
                return 0;
            }
        }

        foreach (var d in dims)
        {
            count *= d;
            if (count > Array.MaxLength)
            {
                ThrowTooLarge(dims, op, a, b);
            }
        }

        return (int)count;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTooLarge(ReadOnlySpan<int> dims, string op, Shape? a, Shape? b)
    {
        var total = 1.0;
        foreach (var d in dims)
        {
            total *= d;
        }

        var inputs = (a, b) switch
        {
            ({ } x, { } y) => $"{x} and {y} give ",
            ({ } x, null) => $"{x} gives ",
            _ => string.Empty,
        };
        throw new ShapeMismatchException(
            $"{op}: {inputs}shape {Format(dims)} of {total:G6} elements, more than the {Array.MaxLength} a tensor can hold.");
    }

    /// <summary>Turns a possibly negative axis into one in <c>[0, Rank)</c>, or throws naming <paramref name="op"/>.</summary>
    /// <param name="axis">The axis; -1 is the last.</param>
    /// <param name="op">The operation to name in the exception.</param>
    /// <returns>The axis in <c>[0, Rank)</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The axis is out of range for this shape.</exception>
    internal int NormalizeAxis(int axis, string op)
    {
        var a = axis < 0 ? axis + Rank : axis;
        if ((uint)a >= (uint)Rank)
        {
            throw new ArgumentOutOfRangeException(nameof(axis), axis, $"{op}: axis {axis} is out of range for shape {this} (rank {Rank}).");
        }

        return a;
    }

    /// <summary>The row-major position of one element; negative indices count from the end.</summary>
    /// <exception cref="ArgumentException">The number of indices differs from the rank.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside its dimension.</exception>
    internal int FlatIndex(ReadOnlySpan<int> indices)
    {
        if (indices.Length != Rank)
        {
            throw new ArgumentException(
                $"Indexer: {indices.Length} indices given for a tensor of shape {this} (rank {Rank}); one element needs one index per axis. " +
                "For a part of the tensor, index with ranges as well (x[0, ..] is row 0).", nameof(indices));
        }

        var flat = 0;
        for (var i = 0; i < indices.Length; i++)
        {
            var dim = Dims[i];
            var index = indices[i] < 0 ? indices[i] + dim : indices[i];
            if ((uint)index >= (uint)dim)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), indices[i], $"Indexer: index {indices[i]} is out of range for dimension {i} of shape {this}.");
            }

            flat = (flat * dim) + index;
        }

        return flat;
    }

    /// <summary>The product of the dimensions before <paramref name="axis"/>.</summary>
    internal int Outer(int axis) => Product(Dims[..axis]);

    /// <summary>The product of the dimensions after <paramref name="axis"/>.</summary>
    internal int Inner(int axis) => Product(Dims[(axis + 1)..]);

    internal static int Product(ReadOnlySpan<int> dims)
    {
        var p = 1;
        foreach (var d in dims)
        {
            p *= d;
        }

        return p;
    }

    /// <summary>Enumerates the dimensions (what lets <c>Shape s = [2, 3];</c> and <c>foreach</c> work).</summary>
    /// <returns>An enumerator over <see cref="Dims"/>.</returns>
    public ReadOnlySpan<int>.Enumerator GetEnumerator() => Dims.GetEnumerator();

    /// <inheritdoc/>
    public bool Equals(Shape other) => Dims.SequenceEqual(other.Dims);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var d in Dims)
        {
            h.Add(d);
        }

        return h.ToHashCode();
    }

    /// <summary>Compares two shapes dimension by dimension.</summary>
    /// <param name="left">The first shape.</param>
    /// <param name="right">The second shape.</param>
    /// <returns><see langword="true"/> when the dimensions are equal.</returns>
    public static bool operator ==(Shape left, Shape right) => left.Equals(right);

    /// <summary>Compares two shapes dimension by dimension.</summary>
    /// <param name="left">The first shape.</param>
    /// <param name="right">The second shape.</param>
    /// <returns><see langword="true"/> when the dimensions differ.</returns>
    public static bool operator !=(Shape left, Shape right) => !left.Equals(right);

    /// <summary>Formats as NumPy does: <c>()</c>, <c>(5,)</c>, <c>(2, 3)</c>.</summary>
    /// <returns>The formatted shape.</returns>
    public override string ToString() => Format(Dims);

    internal static string Format(ReadOnlySpan<int> dims) => dims.Length switch
    {
        0 => "()",
        1 => $"({dims[0]},)",
        _ => "(" + string.Join(", ", dims.ToArray()) + ")",
    };
}
