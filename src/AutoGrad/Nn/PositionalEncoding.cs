using AutoGrad.Operations;
using AutoGrad.Tensors;

namespace AutoGrad.Nn;

/// <summary>
/// Adds a position's vector to each step of (N, T, width) batches: the fixed sinusoids of "Attention Is All You
/// Need" (PE[p, 2i] = sin(p/10000^(2i/width)), PE[p, 2i+1] = cos(…)), or, when learned, a parameter table drawn from
/// N(0, 0.02²) as GPT-2's. Sequences longer than <see cref="MaxLength"/> are refused.
/// </summary>
public sealed class PositionalEncoding : Module
{
    /// <summary>Creates the table.</summary>
    /// <param name="maxLength">The longest sequence.</param>
    /// <param name="width">The model width.</param>
    /// <param name="learned">A learned table (a parameter) instead of the fixed sinusoids (a buffer).</param>
    /// <param name="seed">The seed for a learned table; null draws one from the global generator (<see cref="Tensor.ManualSeed"/>).</param>
    /// <param name="dtype">The element type; <see cref="Tensor.DefaultDType"/> when null.</param>
    public PositionalEncoding(int maxLength, int width, bool learned = false, int? seed = null, DType? dtype = null)
    {
        RequireSizes(nameof(PositionalEncoding), maxLength, width);
        Learned = learned;
        if (learned)
        {
            Table = RegisterParameter("weight", Tensor.RandomNormal([maxLength, width], seed, std: 0.02, dtype: dtype));
            return;
        }

        var values = new double[maxLength * width];
        for (var p = 0; p < maxLength; p++)
        {
            for (var i = 0; i < width; i++)
            {
                var angle = p / Math.Pow(10000, (i - (i % 2)) / (double)width);
                values[(p * width) + i] = i % 2 == 0 ? Math.Sin(angle) : Math.Cos(angle);
            }
        }

        Table = RegisterBuffer("pe", Tensor.FromArray(values, maxLength, width).ToType(dtype ?? Tensor.DefaultDType));
    }

    /// <summary>Whether the table is a learned parameter.</summary>
    public bool Learned { get; }

    /// <summary>The table, (maxLength, width).</summary>
    public Tensor Table { get; }

    /// <summary>The longest sequence.</summary>
    public int MaxLength => Table.Shape[0];

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 3 || input.Shape[2] != Table.Shape[1])
        {
            throw new ShapeMismatchException($"PositionalEncoding: expected (N, T, {Table.Shape[1]}), got {input.Shape}.");
        }

        if (input.Shape[1] > MaxLength)
        {
            throw new ArgumentException($"PositionalEncoding: a sequence of {input.Shape[1]} steps is longer than the table's {MaxLength} positions ({input.Shape}).", nameof(input));
        }

        return input + Ops.Slice(Table, 0, input.Shape[1]);
    }
}
