using AutoGrad.Operations;
using AutoGrad.Tensors;

namespace AutoGrad.Nn;

/// <summary>
/// A table of learned vectors, one per token id, as <c>torch.nn.Embedding(vocabulary, dimension)</c>: its rows are
/// drawn from N(0, 1), and <see cref="Forward(IntTensor)"/> looks up ids of any shape (<see cref="Ops.Embedding"/>).
/// </summary>
public sealed class Embedding : Module
{
    /// <summary>Creates the table with rows drawn from the standard normal distribution, as PyTorch does.</summary>
    /// <param name="vocabulary">The number of ids.</param>
    /// <param name="dimension">The length of each vector.</param>
    /// <param name="seed">The seed for the rows; null draws one from the global generator (<see cref="Tensor.ManualSeed"/>).</param>
    /// <param name="dtype">The element type of the table; <see cref="Tensor.DefaultDType"/> when null.</param>
    public Embedding(int vocabulary, int dimension, int? seed = null, DType? dtype = null)
    {
        RequireSizes(nameof(Embedding), vocabulary, dimension);
        Weight = RegisterParameter("weight", Tensor.RandomNormal([vocabulary, dimension], seed, dtype: dtype));
    }

    /// <summary>The table, (vocabulary, dimension).</summary>
    public Tensor Weight { get; }

    /// <summary>The number of ids.</summary>
    public int Vocabulary => Weight.Shape[0];

    /// <summary>The length of each vector.</summary>
    public int Dimension => Weight.Shape[1];

    /// <summary>The vectors of <paramref name="ids"/>: (…ids' shape, dimension).</summary>
    /// <param name="ids">Token ids of any shape, each in [0, vocabulary).</param>
    /// <returns>The embeddings.</returns>
    public Tensor Forward(IntTensor ids) => Ops.Embedding(Weight, ids);

    /// <summary>
    /// The vectors of ids given as a floating-point tensor (so the table can sit in a <see cref="Sequential"/>): each
    /// element must be a whole number in [0, vocabulary).
    /// </summary>
    /// <param name="input">The ids, of any shape.</param>
    /// <returns>The embeddings.</returns>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var values = input.ToDoubleArray();
        var ids = new int[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            var v = values[i];
            if (!(v >= 0 && v < Vocabulary && v == Math.Floor(v)))
            {
                throw new ArgumentException($"Embedding: element {i} of the ids {input.Shape} is {v}, not a whole number in [0, {Vocabulary}).", nameof(input));
            }

            ids[i] = (int)v;
        }

        return Forward(IntTensor.FromArray(ids, input.Shape.Dims));
    }
}
