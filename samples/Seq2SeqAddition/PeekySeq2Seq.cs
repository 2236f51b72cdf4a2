namespace Seq2SeqAddition;

/// <summary>
/// The book's PeekySeq2seq: an LSTM encoder reads the (reversed) question; its last hidden state h starts the LSTM
/// decoder and is also "peeked" at every decoder step, fed beside each input character and beside each hidden state
/// the output layer reads.
/// </summary>
public sealed class PeekySeq2Seq
{
    private readonly Embedding _encoderEmbedding;
    private readonly Lstm _encoder;
    private readonly Embedding _decoderEmbedding;
    private readonly Lstm _decoder;
    private readonly Linear _output;

    /// <summary>Creates the model.</summary>
    /// <param name="vocabulary">Characters.</param>
    /// <param name="dimension">The character vectors' size (the book's 16).</param>
    /// <param name="hidden">The LSTMs' hidden size (the book's 128).</param>
    /// <param name="seed">The seed.</param>
    public PeekySeq2Seq(int vocabulary, int dimension, int hidden, int seed)
    {
        Hidden = hidden;
        _encoderEmbedding = new Embedding(vocabulary, dimension, seed);
        _encoder = new Lstm(dimension, hidden, seed: seed + 1);
        _decoderEmbedding = new Embedding(vocabulary, dimension, seed + 2);
        _decoder = new Lstm(dimension + hidden, hidden, seed: seed + 3);
        _output = new Linear(2 * hidden, vocabulary, seed: seed + 4);
    }

    /// <summary>The hidden size.</summary>
    public int Hidden { get; }

    /// <summary>Every parameter.</summary>
    public IEnumerable<Tensor> Parameters() =>
        new Module[] { _encoderEmbedding, _encoder, _decoderEmbedding, _decoder, _output }.SelectMany(m => m.Parameters());

    /// <summary>The encoder's last hidden state, (N, H), for questions (N, T) of character ids.</summary>
    /// <param name="questions">The questions.</param>
    /// <returns>h.</returns>
    public Tensor Encode(IntTensor questions)
    {
        var states = _encoder.Forward(_encoderEmbedding.Forward(questions));
        return Ops.Reshape(Ops.Narrow(states, 1, questions.Shape[1] - 1, 1), questions.Shape[0], Hidden);
    }

    /// <summary>
    /// Teacher forcing: the scores (N·T, V) for the character after each of <paramref name="inputs"/> (N, T), the
    /// decoder starting from h and peeking at it throughout.
    /// </summary>
    /// <param name="inputs">The decoder's input characters, the start mark first.</param>
    /// <param name="h">The encoder's state.</param>
    /// <returns>The scores, one row per position.</returns>
    public Tensor Decode(IntTensor inputs, Tensor h)
    {
        int n = inputs.Shape[0], steps = inputs.Shape[1];
        var peek = Ops.Repeat(Ops.Reshape(h, n, 1, Hidden), 1, steps, 1);
        var states = _decoder.Forward(Ops.Concat([_decoderEmbedding.Forward(inputs), peek], 2), h, null);
        return _output.Forward(Ops.Reshape(Ops.Concat([states, peek], 2), n * steps, 2 * Hidden));
    }

    /// <summary>Greedy decoding: <paramref name="length"/> characters for each question, each fed back as the next input.</summary>
    /// <param name="questions">The questions, (N, T).</param>
    /// <param name="start">The start mark's id.</param>
    /// <param name="length">Characters to generate.</param>
    /// <returns>The ids, (N, length) row-major.</returns>
    public int[] Generate(IntTensor questions, int start, int length)
    {
        var n = questions.Shape[0];
        var h = Encode(questions);
        var peek = Ops.Reshape(h, n, 1, Hidden);
        var next = Enumerable.Repeat(start, n).ToArray();
        var result = new int[n * length];
        Tensor hidden = h;
        Tensor? cell = null;
        for (var t = 0; t < length; t++)
        {
            var input = _decoderEmbedding.Forward(IntTensor.FromArray(next, n, 1));
            var state = _decoder.Forward(Ops.Concat([input, peek], 2), hidden, cell);
            (hidden, cell) = (_decoder.FinalHidden!, _decoder.FinalCell);
            next = Ops.ArgMax(_output.Forward(Ops.Reshape(Ops.Concat([state, peek], 2), n, 2 * Hidden)), 1).ToArray();
            for (var i = 0; i < n; i++)
            {
                result[(i * length) + t] = next[i];
            }
        }

        return result;
    }
}
