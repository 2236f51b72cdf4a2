using AutoGrad.Operations;
using AutoGrad.Tensors;

namespace AutoGrad.Nn;

/// <summary>
/// A pre-norm transformer block over (N, T, width), as in GPT-2 and PyTorch's
/// <c>TransformerEncoderLayer(norm_first=True, activation="gelu")</c> without dropout:
/// x + MultiHeadAttention(LayerNorm(x)), then that + FeedForward(LayerNorm(that)), the feed-forward being
/// Linear(width, hidden) → GELU → Linear(hidden, width).
/// </summary>
public sealed class TransformerBlock : Module
{
    /// <summary>Creates the block.</summary>
    /// <param name="width">The model width; a multiple of <paramref name="heads"/>.</param>
    /// <param name="heads">The attention heads.</param>
    /// <param name="hidden">The feed-forward's hidden width; 0 for 4·width.</param>
    /// <param name="causal">Whether the attention is causal (a language model's).</param>
    /// <param name="seed">The seed for the weights; null draws one from the global generator (<see cref="Tensor.ManualSeed"/>).</param>
    /// <param name="dtype">The element type; <see cref="Tensor.DefaultDType"/> when null.</param>
    public TransformerBlock(int width, int heads, int hidden = 0, bool causal = false, int? seed = null, DType? dtype = null)
    {
        if (hidden < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(hidden), hidden, $"TransformerBlock: the hidden width {hidden} must be positive (or 0 for 4·width).");
        }

        hidden = hidden == 0 ? 4 * width : hidden;
        AttentionNorm = RegisterModule("norm1", new LayerNorm(width, dtype: dtype));
        Attention = RegisterModule("attention", new MultiHeadAttention(width, heads, causal, seed, dtype));
        FeedForwardNorm = RegisterModule("norm2", new LayerNorm(width, dtype: dtype));
        Expand = RegisterModule("linear1", new Linear(width, hidden, WeightInit.Xavier, seed + 10, dtype));
        Contract = RegisterModule("linear2", new Linear(hidden, width, WeightInit.Xavier, seed + 11, dtype));
    }

    /// <summary>The layer norm before the attention.</summary>
    public LayerNorm AttentionNorm { get; }

    /// <summary>The attention.</summary>
    public MultiHeadAttention Attention { get; }

    /// <summary>The layer norm before the feed-forward.</summary>
    public LayerNorm FeedForwardNorm { get; }

    /// <summary>The feed-forward's first layer, width → hidden.</summary>
    public Linear Expand { get; }

    /// <summary>The feed-forward's second layer, hidden → width.</summary>
    public Linear Contract { get; }

    /// <summary>
    /// PyTorch's <c>nn.TransformerEncoderLayer(width, heads, hidden, dropout=0, activation="gelu", batch_first=True,
    /// norm_first=True)</c> calls the attention <c>self_attn</c>; the other names (norm1, norm2, linear1, linear2) agree.
    /// </summary>
    private protected override string TorchChildName(string name) => name == "attention" ? "self_attn" : name;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var width = Attention.Width;
        if (input.Rank != 3 || input.Shape[2] != width)
        {
            throw new ShapeMismatchException($"TransformerBlock: expected (N, T, {width}), got {input.Shape}.");
        }

        Tensor attended, fed;
        using (ResultRecycling.Begin())
        {
            // The intermediate results never leave this method (its children are built-in modules that keep no input),
            // so a training step reuses last step's objects; the result is made outside.
            attended = input + Attention.Forward(AttentionNorm.Forward(input));
            int batch = input.Shape[0], steps = input.Shape[1];
            var rows = Ops.Reshape(FeedForwardNorm.Forward(attended), batch * steps, width);
            fed = Ops.Reshape(Contract.Forward(Ops.Gelu(Expand.Forward(rows))), batch, steps, width);
        }

        return attended + fed;
    }
}
