using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Autodiff;

/// <summary>
/// Batched cotangents in one reverse sweep (<c>isGradsBatched</c>, <see cref="Tape.BatchedSweep"/>): for every op of
/// the catalog, each cotangent of a batch gets exactly the gradient its own sweep gives; then fan-out, inputs that
/// need no gradient, custom ops, and refusals.
/// </summary>
public class BatchedBackwardTests
{
    private const int Batch = 3;

    /// <summary>Every gradient check of every op descriptor, and every fused op's composition.</summary>
    public static TheoryData<string, int> Samples
    {
        get
        {
            var data = new TheoryData<string, int>();
            foreach (var (sample, index) in AllSamples().Select((s, i) => (s, i)))
            {
                data.Add($"{sample.Op} {sample.Shapes}", index);
            }

            return data;
        }
    }

    private static List<OpSample> AllSamples() =>
        [.. OpCatalog.All.SelectMany(row => row.Samples.Concat(row.Compositions.Select(c => c with { Function = c.Composed! })))];

    [Theory]
    [MemberData(nameof(Samples))]
    public void Every_op_gives_each_cotangent_of_a_batch_the_gradient_of_its_own_sweep(string name, int index)
    {
        var sample = AllSamples()[index];
        Assert.StartsWith(sample.Op, name, StringComparison.Ordinal);
        AssertBatchMatchesSweeps(sample.Function, sample.Inputs());
    }

    [Fact]
    public void Fan_out_accumulates_and_a_matrix_product_takes_every_cotangent_at_once()
    {
        // x feeds the product and the final multiply; W and b come after x on the tape and still get their gradients.
        AssertBatchMatchesSweeps(v => Ops.Tanh(Ops.Affine(v[0], v[1], v[2])) * Ops.Sum(v[0] * v[0], 1, keepDims: true), Normal(1, 4, 3), Normal(2, 3, 5), Normal(3, 5));
        AssertBatchMatchesSweeps(v => Ops.MatMul(Ops.Sigmoid(v[0]), v[1]) + Ops.MatMul(v[0], v[1]), Normal(4, 2, 3), Normal(5, 3, 4));
    }

    [Fact]
    public void Inputs_that_lead_to_no_target_get_no_work_and_the_targets_are_unchanged()
    {
        using var tape = new Tape();
        var x = tape.Watch(Normal(6, 3, 4));
        var w = tape.Watch(Normal(7, 4, 2));
        var y = Ops.Softmax(Ops.MatMul(x, w));
        var cotangents = Normal(8, Batch, 3, 2);
        var onlyX = tape.Gradient(y, [x], cotangents, retainGraph: true, isGradsBatched: true)[0];
        var both = tape.Gradient(y, [x, w], cotangents, retainGraph: true, isGradsBatched: true);
        Assert.Equal([Batch, 3, 4], onlyX.Shape.Dims.ToArray());
        Assert.Equal([Batch, 4, 2], both[1].Shape.Dims.ToArray());
        Assert.Equal(both[0].ToDoubleArray(), onlyX.ToDoubleArray());
    }

    [Fact]
    public void A_custom_op_with_four_inputs_and_an_input_that_is_the_output_get_their_gradients()
    {
        AssertBatchMatchesSweeps(v => new WeightedSum().Apply(Ops.Exp(v[0]), v[1], v[0], v[1] * v[1]), Normal(9, 2, 3), Normal(10, 2, 3));

        // The output itself among the inputs: its gradient is the cotangents, returned as a copy the caller owns.
        using var tape = new Tape();
        var x = tape.Watch(Normal(11, 2));
        var y = Ops.Sin(x);
        var cotangents = Normal(12, Batch, 2);
        var gradients = tape.Gradient(y, [y, x], cotangents, isGradsBatched: true);
        Assert.Equal(cotangents.ToDoubleArray(), gradients[0].ToDoubleArray());
        cotangents.Fill(0);
        Assert.NotEqual(0, gradients[0].ToDoubleArray().Max(Math.Abs));
    }

    [Fact]
    public void Float32_cotangents_batch_too()
    {
        using var tape = new Tape();
        var x = tape.Watch(Normal(13, 5, 6).ToType(DType.Float32));
        var w = tape.Watch(Normal(14, 6, 4).ToType(DType.Float32));
        var y = Ops.Relu(Ops.MatMul(x, w));
        var cotangents = Normal(15, Batch, 5, 4).ToType(DType.Float32);
        var batched = tape.Gradient(y, [x, w], cotangents, retainGraph: true, isGradsBatched: true);
        for (var k = 0; k < Batch; k++)
        {
            var one = tape.Gradient(y, [x, w], Block(cotangents, k), retainGraph: true);
            for (var i = 0; i < one.Length; i++)
            {
                AssertClose(one[i].ToDoubleArray(), Block(batched[i], k).ToDoubleArray(), 1e-5, 1e-6);
            }
        }
    }

    [Fact]
    public void Bad_batched_cotangents_get_the_library_s_exceptions()
    {
        using var tape = new Tape();
        var x = tape.Watch(Normal(16, 2, 3));
        var y = Ops.Exp(x);
        var shape = Assert.Throws<ShapeMismatchException>(() => tape.Gradient(y, [x], Normal(17, 2, 3), retainGraph: true, isGradsBatched: true));
        Assert.Contains("(2, 3)", shape.Message, StringComparison.Ordinal);
        Assert.Contains("leading axis", shape.Message, StringComparison.Ordinal);
        Assert.Throws<ShapeMismatchException>(() => tape.Gradient(y, [x], Tensor.Zeros([0, 2, 3], DType.Float64), retainGraph: true, isGradsBatched: true));
        var none = Assert.Throws<ArgumentException>(() => tape.Gradient(y, [x], null, retainGraph: true, isGradsBatched: true));
        Assert.Contains("isGradsBatched", none.Message, StringComparison.Ordinal);
        Assert.Throws<DTypeMismatchException>(() => tape.Gradient(y, [x], Normal(18, 4, 2, 3).ToType(DType.Float32), retainGraph: true, isGradsBatched: true));
        var nan = Normal(19, 4, 2, 3);
        nan[3, 1, 2] = double.NaN;
        var finite = Assert.Throws<ArgumentException>(() => tape.Gradient(y, [x], nan, retainGraph: true, isGradsBatched: true));
        Assert.Contains("NaN", finite.Message, StringComparison.Ordinal);
        var recorded = Assert.Throws<NotSupportedException>(() => tape.Gradient(y, [x], Normal(20, 4, 2, 3), createGraph: true, isGradsBatched: true));
        Assert.Contains("createGraph", recorded.Message, StringComparison.Ordinal);

        // The tape is still usable after every refusal, and a batched sweep without retainGraph ends it as a plain one does.
        tape.Gradient(y, [x], Normal(21, 4, 2, 3), isGradsBatched: true);
        Assert.Throws<InvalidOperationException>(() => tape.Gradient(y, [x], Normal(22, 4, 2, 3), isGradsBatched: true));
    }

    /// <summary>Batched gradients against one sweep per cotangent: the same rules' arithmetic, so to 1e-12 relative.</summary>
    private static void AssertBatchMatchesSweeps(Func<Tensor[], Tensor> function, params Tensor[] inputs)
    {
        using var tape = new Tape();
        var watched = inputs.Select(tape.Watch).ToArray();
        var output = function(watched);
        var cotangents = Normal(400, [Batch, .. output.Shape.Dims]);
        var batched = tape.Gradient(output, watched, cotangents, retainGraph: true, isGradsBatched: true);
        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.Equal([Batch, .. inputs[i].Shape.Dims], batched[i].Shape.Dims.ToArray());
        }

        for (var k = 0; k < Batch; k++)
        {
            var one = tape.Gradient(output, watched, Block(cotangents, k), retainGraph: true);
            for (var i = 0; i < inputs.Length; i++)
            {
                AssertClose(one[i].ToDoubleArray(), Block(batched[i], k).ToDoubleArray(), 1e-12, 1e-14);
            }
        }
    }

    /// <summary>Block k of a batched tensor, as an owned tensor of one item's shape.</summary>
    private static Tensor Block(Tensor batched, int k)
    {
        var dims = batched.Shape.Dims.ToArray()[1..];
        var length = batched.Length / batched.Shape[0];
        if (dims.Length == 0)
        {
            return Tensor.Scalar(batched.ToDoubleArray()[k], batched.DType);
        }

        return Tensor.FromArray(batched.ToDoubleArray()[(k * length)..((k + 1) * length)], batched.DType, dims);
    }

    private sealed class WeightedSum() : CustomOp("WeightedSum")
    {
        public override Tensor Forward(IReadOnlyList<Tensor> inputs) => (inputs[0] * inputs[1]) + (inputs[2] * inputs[3]);

        public override IReadOnlyList<Tensor?> Backward(IReadOnlyList<Tensor> inputs, Tensor output, Tensor outputGradient) =>
            [outputGradient * inputs[1], outputGradient * inputs[0], outputGradient * inputs[3], outputGradient * inputs[2]];
    }
}
