using AutoGrad.Operations;
using AutoGrad.Tensors;

namespace AutoGrad.Nn;

/// <summary>
/// Multi-head attention over (N, T, width) batches, as <c>torch.nn.MultiheadAttention(batch_first=True)</c>: the
/// queries, keys and values are projected (<see cref="Linear"/> each), split into <see cref="Heads"/> heads of
/// width / heads, attended with the fused <see cref="Ops.ScaledDotProductAttention"/>, joined and projected again.
/// </summary>
public sealed class MultiHeadAttention : Module
{
    /// <summary>Creates the four projections, Xavier-initialized.</summary>
    /// <param name="width">The model width; a multiple of <paramref name="heads"/>.</param>
    /// <param name="heads">The number of heads.</param>
    /// <param name="causal">Whether a position attends only to itself and those before it (self-attention).</param>
    /// <param name="seed">The seed for the weights; null draws one from the global generator (<see cref="Tensor.ManualSeed"/>).</param>
    /// <param name="dtype">The element type; <see cref="Tensor.DefaultDType"/> when null.</param>
    public MultiHeadAttention(int width, int heads, bool causal = false, int? seed = null, DType? dtype = null)
    {
        RequireSizes(nameof(MultiHeadAttention), width, heads);
        if (width % heads != 0)
        {
            throw new ArgumentException($"MultiHeadAttention: {heads} heads do not divide the width {width}.", nameof(heads));
        }

        Heads = heads;
        Causal = causal;
        Query = RegisterModule("q", new Linear(width, width, WeightInit.Xavier, seed, dtype));
        Key = RegisterModule("k", new Linear(width, width, WeightInit.Xavier, seed + 1, dtype));
        Value = RegisterModule("v", new Linear(width, width, WeightInit.Xavier, seed + 2, dtype));
        Output = RegisterModule("out", new Linear(width, width, WeightInit.Xavier, seed + 3, dtype));
    }

    /// <summary>The number of heads.</summary>
    public int Heads { get; }

    /// <summary>Whether self-attention is causal.</summary>
    public bool Causal { get; }

    /// <summary>The model width.</summary>
    public int Width => Query.Weight.Shape[0];

    /// <summary>The queries' projection.</summary>
    public Linear Query { get; }

    /// <summary>The keys' projection.</summary>
    public Linear Key { get; }

    /// <summary>The values' projection.</summary>
    public Linear Value { get; }

    /// <summary>The output projection.</summary>
    public Linear Output { get; }

    /// <summary>
    /// PyTorch's <c>nn.MultiheadAttention(width, heads, batch_first=True)</c>: the three input projections as one
    /// <c>in_proj_weight</c> (3·width, width), rows for q, k, v, each the transpose of this layer's Linear weight, with
    /// <c>in_proj_bias</c>; the output projection as <c>out_proj</c>.
    /// </summary>
    private protected override IEnumerable<TorchTensor> OwnTorchTensors()
    {
        Linear[] projections = [Query, Key, Value];
        var width = Width;
        yield return new TorchTensor(
            "in_proj_weight",
            [3 * width, width],
            () => Ops.Concat([.. projections.Select(p => Ops.Transpose(p.Weight))], 0),
            v =>
            {
                for (var k = 0; k < 3; k++)
                {
                    TorchTensor.Overwrite(projections[k].Weight, Ops.Transpose(Ops.Narrow(v, 0, k * width, width)));
                }
            });
        yield return new TorchTensor(
            "in_proj_bias",
            [3 * width],
            () => Ops.Concat([.. projections.Select(p => p.Bias)], 0),
            v =>
            {
                for (var k = 0; k < 3; k++)
                {
                    TorchTensor.Overwrite(projections[k].Bias, Ops.Narrow(v, 0, k * width, width));
                }
            });
        foreach (var entry in Output.TorchTensors("out_proj."))
        {
            yield return entry;
        }
    }

    /// <inheritdoc/>
    private protected override bool TorchCoversChildren => true;

    /// <summary>Self-attention: queries, keys and values all from <paramref name="input"/>, (N, T, width).</summary>
    /// <param name="input">The batch.</param>
    /// <returns>(N, T, width).</returns>
    public override Tensor Forward(Tensor input) => Forward(input, input, input);

    /// <summary>
    /// Attention of <paramref name="query"/> (N, Tq, width) over <paramref name="key"/> and <paramref name="value"/>
    /// (N, Tk, width), the causal rule applied when <see cref="Causal"/>, and <paramref name="mask"/> (PyTorch's: true
    /// where a query may attend; it broadcasts to (N, heads, Tq, Tk)) when given.
    /// </summary>
    /// <param name="query">The queries.</param>
    /// <param name="key">The keys.</param>
    /// <param name="value">The values.</param>
    /// <param name="mask">Which keys each query may attend to, or null.</param>
    /// <returns>(N, Tq, width).</returns>
    public Tensor Forward(Tensor query, Tensor key, Tensor value, BoolTensor? mask = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (query.Rank != 3 || key.Rank != 3 || value.Rank != 3 || query.Shape[2] != Width || key.Shape[2] != Width || value.Shape[2] != Width
            || key.Shape[0] != query.Shape[0] || value.Shape[0] != query.Shape[0] || key.Shape[1] != value.Shape[1])
        {
            throw new ShapeMismatchException(
                $"MultiHeadAttention: query {query.Shape}, key {key.Shape} and value {value.Shape} must be (N, Tq, {Width}), (N, Tk, {Width}) and (N, Tk, {Width}).");
        }

        var attended = Ops.ScaledDotProductAttention(SplitHeads(Query, query), SplitHeads(Key, key), SplitHeads(Value, value), mask, Causal);
        int batch = query.Shape[0], steps = query.Shape[1];
        var joined = Ops.Reshape(Ops.Permute(attended, 0, 2, 1, 3), batch * steps, Width);
        return Ops.Reshape(Output.Forward(joined), batch, steps, Width);
    }

    /// <summary>The projection of (N, T, width) as (N, heads, T, width / heads).</summary>
    private Tensor SplitHeads(Linear projection, Tensor x)
    {
        int batch = x.Shape[0], steps = x.Shape[1];
        var projected = projection.Forward(Ops.Reshape(x, batch * steps, Width));
        return Ops.Permute(Ops.Reshape(projected, batch, steps, Heads, Width / Heads), 0, 2, 1, 3);
    }
}
