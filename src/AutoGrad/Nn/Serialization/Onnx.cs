using AutoGrad.Autodiff;
using AutoGrad.Nn.Serialization.Proto;
using AutoGrad.Tensors;

using Google.Protobuf;

namespace AutoGrad.Nn.Serialization;

/// <summary>
/// Exports a model as ONNX, for serving it with ONNX Runtime or any other engine: one forward pass is recorded in
/// evaluation mode and each op writes its ONNX operators (its rule sits in the op's file). Parameters become
/// initializers under their state-dict names (in this library's layouts: a Linear's weight is Gemm's (in, out) B); the
/// first axis of the input and the output is a dynamic "batch" dimension.
/// </summary>
public static class Onnx
{
    /// <summary>The opsets exported: 17 (LayerNormalization) up to 21.</summary>
    private const int LowestOpset = 17;

    private const int HighestOpset = 21;

    /// <summary>
    /// Records <paramref name="model"/> on <paramref name="sampleInput"/> in evaluation mode (and once more with one
    /// more sample, to tell which dimension of every shape is the batch's) and writes the ONNX model to
    /// <paramref name="path"/> atomically. The model's training mode is restored afterwards.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="sampleInput">An input of the model, its first axis the batch.</param>
    /// <param name="path">The <c>.onnx</c> file.</param>
    /// <param name="opset">The ONNX opset, 17 to 21.</param>
    /// <exception cref="NotSupportedException">An op the model uses has no ONNX form (named), or a shape depends on the batch in a way ONNX cannot say.</exception>
    public static void Export(Module model, Tensor sampleInput, string path, int opset = 17)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = ToBytes(model, sampleInput, opset);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    /// <summary>The ONNX model's bytes; see <see cref="Export"/>.</summary>
    /// <param name="model">The model.</param>
    /// <param name="sampleInput">An input of the model, its first axis the batch.</param>
    /// <param name="opset">The ONNX opset, 17 to 21.</param>
    /// <returns>The serialized ModelProto.</returns>
    public static byte[] ToBytes(Module model, Tensor sampleInput, int opset = 17)
    {
        ArgumentNullException.ThrowIfNull(model);
        Check.NotNull(sampleInput, "Onnx.Export", nameof(sampleInput));
        if (sampleInput.Rank < 1 || sampleInput.Shape[0] < 1)
        {
            throw new ShapeMismatchException($"Onnx.Export: the sample input {sampleInput.Shape} needs a first (batch) axis with at least one sample.");
        }

        if (opset is < LowestOpset or > HighestOpset)
        {
            throw new ArgumentOutOfRangeException(nameof(opset), opset, $"Onnx.Export: opset {opset} is not one of {LowestOpset} to {HighestOpset}.");
        }

        var training = model.IsTraining;
        model.Eval();
        var tapes = new List<Tape>();
        try
        {
            var (tape, input, output) = Record(model, sampleInput, tapes);
            var (other, otherInput, _) = Record(model, OneMore(sampleInput), tapes);
            RequireSameOps(tape, other);
            var builder = new OnnxGraphBuilder(opset, other, model.StateDict());
            builder.AddRecording(tape, input, output, otherInput);
            var proto = new ModelProto
            {
                IrVersion = 8,
                ProducerName = "AutoGrad",
                Graph = builder.Graph,
                OpsetImport = { new OperatorSetIdProto { Domain = "", Version = opset } },
            };
            return proto.ToByteArray();
        }
        finally
        {
            model.Train(training);
            foreach (var tape in tapes)
            {
                tape.Dispose();
            }
        }
    }

    /// <summary>One forward pass on a tape of its own, the input watched so that everything depending on it is recorded.</summary>
    private static (Tape Tape, Tensor Input, Tensor Output) Record(Module model, Tensor sample, List<Tape> tapes)
    {
        var tape = Tape.Detached();
        tapes.Add(tape);
        using (tape.Enter(record: true))
        {
            var input = tape.Watch(sample.Clone());
            var output = model.Forward(input);
            return (tape, input, output);
        }
    }

    /// <summary>
    /// The sample with one item more and its values moved: shapes that follow the batch and constants that follow the
    /// input's values both differ from the first recording, and the builder refuses the latter. Values are scaled
    /// (×0.75 + 0.125), or, when all are whole numbers (ids), reversed, so that they stay valid ids.
    /// </summary>
    private static Tensor OneMore(Tensor sample)
    {
        var values = sample.ToDoubleArray();
        var item = values.Length / sample.Shape[0];
        var ids = values.All(v => v == Math.Floor(v));
        double[] moved = ids ? [.. values.Reverse(), .. values[..item]] : [.. values.Concat(values[..item]).Select(v => (v * 0.75) + 0.125)];
        return Tensor.FromArray(moved, sample.DType, [sample.Shape[0] + 1, .. sample.Shape.Dims[1..]]);
    }

    private static void RequireSameOps(Tape first, Tape second)
    {
        var same = first.NodeCount == second.NodeCount;
        for (var i = 0; same && i < first.NodeCount; i++)
        {
            same = first.NodeAt(i).Op == second.NodeAt(i).Op;
        }

        if (!same)
        {
            throw new NotSupportedException("Onnx.Export: the model runs different ops at two batch sizes, so one ONNX graph cannot serve every batch.");
        }
    }
}
