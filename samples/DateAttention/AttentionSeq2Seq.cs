namespace DateAttention;

/// <summary>
/// The book's AttentionSeq2seq: an LSTM encoder keeps its hidden state at every input character (hs); an LSTM decoder
/// starts from the last of them, and at each step attends over all of them: weights softmax(hs·hₜ) (the book's dot
/// product, unscaled), context Σ weights·hs, and the output layer reads the context beside hₜ.
/// </summary>
public sealed class AttentionSeq2Seq
{
    private readonly Embedding _encoderEmbedding;
    private readonly Lstm _encoder;
    private readonly Embedding _decoderEmbedding;
    private readonly Lstm _decoder;
    private readonly Linear _output;

    /// <summary>Creates the model.</summary>
    /// <param name="vocabulary">Characters.</param>
    /// <param name="dimension">The character vectors' size (the book's 16).</param>
    /// <param name="hidden">The LSTMs' hidden size.</param>
    /// <param name="seed">The seed.</param>
    public AttentionSeq2Seq(int vocabulary, int dimension, int hidden, int seed)
    {
        Hidden = hidden;
        _encoderEmbedding = new Embedding(vocabulary, dimension, seed);
        _encoder = new Lstm(dimension, hidden, seed: seed + 1);
        _decoderEmbedding = new Embedding(vocabulary, dimension, seed + 2);
        _decoder = new Lstm(dimension, hidden, seed: seed + 3);
        _output = new Linear(2 * hidden, vocabulary, seed: seed + 4);
    }

    /// <summary>The hidden size.</summary>
    public int Hidden { get; }

    /// <summary>Every parameter.</summary>
    public IEnumerable<Tensor> Parameters() =>
        new Module[] { _encoderEmbedding, _encoder, _decoderEmbedding, _decoder, _output }.SelectMany(m => m.Parameters());

    /// <summary>The encoder's hidden states, (N, T, H), for questions (N, T) of character ids.</summary>
    /// <param name="questions">The questions.</param>
    /// <returns>hs.</returns>
    public Tensor Encode(IntTensor questions) => _encoder.Forward(_encoderEmbedding.Forward(questions));

    /// <summary>Teacher forcing: the scores (N·T, V) for the character after each of <paramref name="inputs"/> (N, T).</summary>
    /// <param name="inputs">The decoder's input characters, the start mark first.</param>
    /// <param name="hs">The encoder's states.</param>
    /// <returns>The scores, one row per position.</returns>
    public Tensor Decode(IntTensor inputs, Tensor hs)
    {
        int n = inputs.Shape[0], steps = inputs.Shape[1];
        var states = _decoder.Forward(_decoderEmbedding.Forward(inputs), Last(hs), null);
        var context = Ops.ScaledDotProductAttention(states, hs, hs, scale: 1.0);
        return _output.Forward(Ops.Reshape(Ops.Concat([context, states], 2), n * steps, 2 * Hidden));
    }

    /// <summary>Greedy decoding: <paramref name="length"/> characters for each question, each fed back as the next input.</summary>
    /// <param name="questions">The questions, (N, T).</param>
    /// <param name="start">The start mark's id.</param>
    /// <param name="length">Characters to generate.</param>
    /// <returns>The ids, (N, length) row-major.</returns>
    public int[] Generate(IntTensor questions, int start, int length)
    {
        var n = questions.Shape[0];
        var hs = Encode(questions);
        var next = Enumerable.Repeat(start, n).ToArray();
        var result = new int[n * length];
        var hidden = Last(hs);
        Tensor? cell = null;
        for (var t = 0; t < length; t++)
        {
            var state = _decoder.Forward(_decoderEmbedding.Forward(IntTensor.FromArray(next, n, 1)), hidden, cell);
            (hidden, cell) = (_decoder.FinalHidden!, _decoder.FinalCell);
            var context = Ops.ScaledDotProductAttention(state, hs, hs, scale: 1.0);
            next = Ops.ArgMax(_output.Forward(Ops.Reshape(Ops.Concat([context, state], 2), n, 2 * Hidden)), 1).ToArray();
            for (var i = 0; i < n; i++)
            {
                result[(i * length) + t] = next[i];
            }
        }

        return result;
    }

    /// <summary>
    /// The attention weights (answer characters × question characters) of one question as the decoder reads
    /// <paramref name="inputs"/> (the start mark and the answer but its last character): softmax(hₜ·hsᵀ).
    /// </summary>
    /// <param name="question">The question, (1, T).</param>
    /// <param name="inputs">The decoder's inputs, (1, T').</param>
    /// <returns>The weights, (T', T).</returns>
    public Tensor AttentionWeights(IntTensor question, IntTensor inputs)
    {
        var hs = Encode(question);
        var states = _decoder.Forward(_decoderEmbedding.Forward(inputs), Last(hs), null);
        var keys = Ops.Reshape(hs, question.Shape[1], Hidden);
        return Ops.Softmax(Ops.MatMul(Ops.Reshape(states, inputs.Shape[1], Hidden), Ops.Transpose(keys)), 1);
    }

    private Tensor Last(Tensor hs) => Ops.Reshape(Ops.Narrow(hs, 1, hs.Shape[1] - 1, 1), hs.Shape[0], Hidden);
}
