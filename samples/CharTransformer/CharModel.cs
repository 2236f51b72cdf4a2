namespace CharTransformer;

/// <summary>
/// A character-level language model: token vectors plus learned positions, transformer blocks (pre-norm, causal),
/// a final layer norm and a linear read-out to the next character's scores.
/// </summary>
public sealed class CharModel : Module
{
    private readonly Embedding _tokens;
    private readonly PositionalEncoding _positions;
    private readonly TransformerBlock[] _blocks;
    private readonly LayerNorm _norm;
    private readonly Linear _head;

    /// <summary>Creates the model.</summary>
    /// <param name="vocabulary">Tokens.</param>
    /// <param name="width">The model's width.</param>
    /// <param name="heads">Attention heads per block.</param>
    /// <param name="blocks">Transformer blocks.</param>
    /// <param name="maxLength">The longest sequence.</param>
    /// <param name="seed">The seed.</param>
    public CharModel(int vocabulary, int width, int heads, int blocks, int maxLength, int seed)
    {
        _tokens = RegisterModule("tokens", new Embedding(vocabulary, width, seed));
        _positions = RegisterModule("positions", new PositionalEncoding(maxLength, width, learned: true, seed: seed + 1));
        _blocks = [.. Enumerable.Range(0, blocks).Select(b => RegisterModule($"block{b}", new TransformerBlock(width, heads, causal: true, seed: seed + 2 + b)))];
        _norm = RegisterModule("norm", new LayerNorm(width));
        _head = RegisterModule("head", new Linear(width, vocabulary, seed: seed + 2 + blocks));
    }

    /// <summary>The scores of the next token at every position, (N·T, V), for token ids (N, T).</summary>
    /// <param name="ids">The tokens.</param>
    /// <returns>The scores, one row per position.</returns>
    public Tensor Scores(IntTensor ids) => Head(_tokens.Forward(ids));

    /// <summary>The same for ids given as whole numbers in a floating-point tensor (N, T).</summary>
    /// <param name="input">The tokens.</param>
    /// <returns>The scores, one row per position.</returns>
    public override Tensor Forward(Tensor input) => Head(_tokens.Forward(input));

    private Tensor Head(Tensor embedded)
    {
        int n = embedded.Shape[0], steps = embedded.Shape[1], width = embedded.Shape[2];
        var x = _positions.Forward(embedded);
        foreach (var block in _blocks)
        {
            x = block.Forward(x);
        }

        return _head.Forward(Ops.Reshape(_norm.Forward(x), n * steps, width));
    }
}
