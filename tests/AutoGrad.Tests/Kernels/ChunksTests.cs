using AutoGrad.Kernels;

namespace AutoGrad.Tests.Kernels;

/// <summary>
/// Elementwise work split across threads: every unit runs exactly once, and the large elementwise ops and 2×2 max
/// pooling give the same bits on one thread and on two.
/// </summary>
public class ChunksTests
{
    [Theory]
    [InlineData(Chunks.MinimumLength - 1, 1)]
    [InlineData(Chunks.MinimumLength, 1)]
    [InlineData((3 * Chunks.ChunkLength) + Chunks.MinimumLength + 5, 1)]
    [InlineData(5000, 56)]
    public void Every_unit_runs_exactly_once(int length, int unitSize)
    {
        var counts = new int[length];
        WithThreads(2, () => Chunks.Run(new Count(counts), length, unitSize));
        Assert.All(counts, c => Assert.Equal(1, c));
    }

    [Fact]
    public void Large_elementwise_ops_and_their_gradients_give_the_same_bits_on_one_thread_and_two()
    {
        // An odd length, so the last chunk carries a vector loop's tail.
        var x = Tensor.RandomNormal([(2 * Chunks.MinimumLength) + 13], seed: 6);
        Func<Tensor, Tensor>[] ops = [Ops.Relu, Ops.Exp, Ops.Sin, Ops.Sigmoid, Ops.Tanh, Ops.Abs];
        foreach (var op in ops)
        {
            var single = WithThreads(1, () => ValueAndGradient(op, x));
            var parallel = WithThreads(2, () => ValueAndGradient(op, x));
            Assert.Equal(single.Value, parallel.Value);
            Assert.Equal(single.Gradient, parallel.Gradient);
        }
    }

    [Fact]
    public void Large_max_pooling_gives_the_same_bits_on_one_thread_and_two()
    {
        var x = Tensor.RandomNormal([40, 30, 24, 24], seed: 7);
        Func<Tensor, Tensor> pool = v => Ops.MaxPool2d(v, 2);
        var single = WithThreads(1, () => ValueAndGradient(pool, x));
        var parallel = WithThreads(2, () => ValueAndGradient(pool, x));
        Assert.Equal(single.Value, parallel.Value);
        Assert.Equal(single.Gradient, parallel.Gradient);
    }

    private static (int[] Value, int[] Gradient) ValueAndGradient(Func<Tensor, Tensor> op, Tensor x)
    {
        using var tape = new Tape();
        tape.Watch(x);
        var y = op(x);
        // An upstream gradient other than 1, so the backward formula's arithmetic shows in the bits.
        var g = Tensor.RandomNormal(y.Shape.Dims, seed: 8);
        var dx = tape.Gradient(y, [x], g)[0];
        return (Bits(y), Bits(dx));
    }

    private static int[] Bits(Tensor t) => [.. t.ToFloatArray().Select(BitConverter.SingleToInt32Bits)];

    private static TResult WithThreads<TResult>(int threads, Func<TResult> run)
    {
        var before = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = threads;
            return run();
        }
        finally
        {
            Parallelism.MaxThreads = before;
        }
    }

    private static void WithThreads(int threads, Action run) => WithThreads(threads, () =>
    {
        run();
        return 0;
    });

    private readonly struct Count(int[] counts) : IChunkJob
    {
        public void Run(int start, int length)
        {
            for (var i = start; i < start + length; i++)
            {
                counts[i]++;
            }
        }
    }
}
