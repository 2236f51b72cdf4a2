using AutoGrad.Kernels;
using AutoGrad.Nn.Optimizers;

using BenchmarkDotNet.Attributes;

namespace AutoGrad.Benchmarks;

/// <summary>
/// Issue 15's sequence workloads, float32, as benchmarks/peers/TorchSharpPeer measures them with "sequence": an LSTM
/// language-model training step (batch 32, 35 steps, embedding 128, hidden 256, vocabulary 1,000: embedding, LSTM,
/// a linear layer to the vocabulary, SoftmaxWithLoss over every step, Adam), and one causal TransformerBlock forward
/// and backward (batch 16, 64 tokens, width 128, 4 heads).
/// </summary>
[MemoryDiagnoser]
public class SequenceBenchmarks
{
    private const int Batch = 32;
    private const int Steps = 35;
    private const int Vocabulary = 1000;

    private readonly Tape _tape = new();
    private Embedding _embedding = null!;
    private Lstm _lstm = null!;
    private Linear _decoder = null!;
    private Adam _optimizer = null!;
    private IntTensor _ids = null!;
    private int[] _targets = [];
    private TransformerBlock _block = null!;
    private Tensor _tokens = null!;

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Parallelism.MaxThreads = Threads;
        _embedding = new Embedding(Vocabulary, 128, seed: 1);
        _lstm = new Lstm(128, 256, seed: 2);
        _decoder = new Linear(256, Vocabulary, WeightInit.Xavier, seed: 3);
        _optimizer = new Adam([.. _embedding.Parameters(), .. _lstm.Parameters(), .. _decoder.Parameters()], 0.001);
        var random = new SeededRandom(4);
        _ids = IntTensor.FromArray([.. Enumerable.Range(0, Batch * Steps).Select(_ => random.NextInt(Vocabulary))], Batch, Steps);
        _targets = [.. Enumerable.Range(0, Batch * Steps).Select(_ => random.NextInt(Vocabulary))];
        _block = new TransformerBlock(128, 4, causal: true, seed: 5);
        _tokens = Tensor.RandomNormal([16, 64, 128], seed: 6);
    }

    [GlobalCleanup]
    public void Cleanup() => _tape.Dispose();

    /// <summary>One LSTM language-model training step.</summary>
    [Benchmark]
    public double LstmStep()
    {
        _tape.Reset();
        var hidden = _lstm.Forward(_embedding.Forward(_ids));
        var scores = _decoder.Forward(Ops.Reshape(hidden, Batch * Steps, 256));
        var loss = Ops.SoftmaxWithLoss(scores, _targets);
        _optimizer.ZeroGrad();
        _tape.Backward(loss);
        _optimizer.Step();
        return loss.ToScalar();
    }

    /// <summary>One causal TransformerBlock forward and backward (the mean of its output as the loss).</summary>
    [Benchmark]
    public void TransformerBlock()
    {
        _tape.Reset();
        _tape.Watch(_tokens);
        _tape.Backward(Ops.Mean(_block.Forward(_tokens)));
    }
}
