using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace AutoGrad.Tensors;

/// <summary>
/// Argument checks shared by the ops (and the custom-op machinery beneath them); each message names the op and the
/// offending shapes or values. They know tensors only, so they sit in the Tensors layer.
/// </summary>
internal static class Check
{
    public static void NotNull([NotNull] Tensor? x, string op, string name)
    {
        if (x is null)
        {
            ThrowNull(op, name);
        }

        x.EnsureAlive(op);
    }

    /// <summary>As <see cref="NotNull(Tensor?, string, string)"/> for element <paramref name="index"/> of a list argument (the name is built only for the message).</summary>
    public static void NotNull(Tensor? x, string op, string list, int index)
    {
        if (x is null)
        {
            throw new ArgumentNullException(list, $"{op}: argument '{list}[{index}]' is null.");
        }

        x.EnsureAlive(op);
    }

    public static void SameType(Tensor a, Tensor b, string op)
    {
        if (a.DType != b.DType)
        {
            ThrowMixedTypes(a, b, op);
        }
    }

    public static void Finite(double value, string op, string name)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{op}: '{name}' must be finite, not {value}.");
        }
    }

    public static void NotNaN(double value, string op, string name)
    {
        if (double.IsNaN(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{op}: '{name}' is NaN, which compares unequal to everything.");
        }
    }

    /// <summary>One label per row, each a class index or <paramref name="ignoreLabel"/>.</summary>
    public static void Labels(ReadOnlySpan<int> labels, int rows, int classes, string op, int ignoreLabel)
    {
        if (labels.Length != rows)
        {
            throw new ShapeMismatchException($"{op}: {labels.Length} labels given for {rows} rows.");
        }

        for (var i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classes && labels[i] != ignoreLabel)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(labels), labels[i], $"{op}: label {labels[i]} at row {i} is out of range for {classes} classes (and is not the ignore label {ignoreLabel}).");
            }
        }
    }

    public static void Labels(ReadOnlySpan<int> labels, int rows, int classes, string op)
    {
        if (labels.Length != rows)
        {
            throw new ShapeMismatchException($"{op}: {labels.Length} labels given for {rows} rows.");
        }

        for (var i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classes)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(labels), labels[i], $"{op}: label {labels[i]} at row {i} is out of range for {classes} classes.");
            }
        }
    }

    // The throws live in methods of their own, so that the checks every op makes stay small enough to inline.
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNull(string op, string name) => throw new ArgumentNullException(name, $"{op}: argument '{name}' is null.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowMixedTypes(Tensor a, Tensor b, string op) => throw new DTypeMismatchException(
        $"{op}: cannot mix {a.DType.Name()} {a.Shape} with {b.DType.Name()} {b.Shape}; convert one with ToType().");
}
