using AutoGrad.Nn.Optimizers;
using AutoGrad.Nn.Serialization;

using Microsoft.ML.OnnxRuntime;

using static AutoGrad.Tests.TestData;

using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using Tensor = AutoGrad.Tensors.Tensor;

namespace AutoGrad.Tests.Nn.Serialization;

/// <summary>
/// <see cref="Onnx.Export"/> checked by ONNX Runtime (a test-only dependency): each model, trained a few steps so its
/// batch-norm statistics are its own, is exported from a batch of 3 and run by ONNX Runtime at batch sizes 1 and 7;
/// the outputs equal the model's own in evaluation mode to 1e-5.
/// </summary>
public sealed class OnnxTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("autograd-onnx-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static TheoryData<string> Models =>
        ["mlp-relu", "mlp-batchnorm-tanh", "two-layer", "simple-cnn", "deep-cnn-batchnorm", "gelu-layernorm-softmax", "transformer-block-causal", "transformer-block", "lstm", "adds-ones", "conv-transpose-pools", "split-narrow-concat", "embedding-transformer"];

    private static (Module Model, int[] Item) Build(string kind) => kind switch
    {
        "mlp-relu" => (new MultiLayerNet(6, [8, 5], 3, seed: 1, dtype: DType.Float32, dropout: 0.3), [6]),
        "mlp-batchnorm-tanh" => (new MultiLayerNet(6, [8, 5], 3, activation: "tanh", seed: 2, dtype: DType.Float32, batchNorm: true), [6]),
        "two-layer" => (new TwoLayerNet(6, 7, 3, seed: 3, dtype: DType.Float32), [6]),
        "simple-cnn" => (new SimpleConvNet(channels: 1, height: 11, width: 11, classes: 3, filters: 4, kernel: 3, hidden: 8, seed: 4, dtype: DType.Float32), [1, 11, 11]),
        "deep-cnn-batchnorm" => (new DeepConvNet(channels: 1, height: 16, width: 16, classes: 3, batchNorm: true, seed: 5, dtype: DType.Float32), [1, 16, 16]),
        "transformer-block-causal" => (new TransformerBlock(8, 2, causal: true, seed: 8, dtype: DType.Float32), [5, 8]),
        "transformer-block" => (new TransformerBlock(8, 4, hidden: 12, seed: 9, dtype: DType.Float32), [4, 8]),
        "lstm" => (new Sequential([new Lstm(3, 6, seed: 10, dtype: DType.Float32), new Tanh()]), [5, 3]),
        "adds-ones" => (new AddsBatchSizedConstant(uniform: true), [3]),
        "split-narrow-concat" => (new SplitsAndJoins(), [4, 6]),
        "embedding-transformer" => (new Sequential([new Embedding(11, 8, seed: 15, dtype: DType.Float32), new TransformerBlock(8, 2, causal: true, seed: 16, dtype: DType.Float32)]), [6]),
        "conv-transpose-pools" => (new Sequential(
        [
            new Conv2d(2, 4, 3, stride: 2, padding: 1, groups: 2, seed: 11, dtype: DType.Float32), new LeakyRelu(0.1),
            new ConvTranspose2d(4, 3, 3, stride: 2, padding: 1, outputPadding: 1, seed: 12, dtype: DType.Float32), new HardTanh(-0.5, 0.75),
            new AvgPool2d(2, padding: 1, countIncludePad: false), new MaxPool2d(2), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(3, 3, seed: 13, dtype: DType.Float32),
        ]), [2, 9, 9]),
        _ => (new Sequential([new Linear(6, 8, seed: 6, dtype: DType.Float32), new LayerNorm(8, dtype: DType.Float32), new Gelu(), new Linear(8, 3, seed: 7, dtype: DType.Float32), new Softmax()]), [6]),
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Onnx_runtime_gives_the_model_s_outputs_at_batch_sizes_1_and_7(string kind)
    {
        var (model, item) = Build(kind);
        Train(model, kind, item);
        var path = Path.Combine(_folder, $"{kind}.onnx");
        Onnx.Export(model, Input(kind, [3, .. item], seed: 20), path);
        Assert.True(model.IsTraining, "the export restores training mode");

        using var session = new InferenceSession(path);
        Assert.Equal("input", session.InputMetadata.Keys.Single());
        foreach (var batch in new[] { 1, 7 })
        {
            var x = Input(kind, [batch, .. item], seed: 30 + batch);
            model.Eval();
            var expected = model.Forward(x);
            model.Train();
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor(x.ToFloatArray(), [batch, .. item]))]);
            var output = results.Single().AsTensor<float>();
            Assert.Equal(expected.Shape.Dims.ToArray(), output.Dimensions.ToArray());
            AssertClose(expected.ToDoubleArray(), output.ToArray().Select(v => (double)v).ToArray(), 1e-5, 1e-5);
        }
    }

    [Fact]
    public void Parameters_are_initializers_under_their_state_dict_names()
    {
        var (model, item) = Build("mlp-batchnorm-tanh");
        var bytes = Onnx.ToBytes(model, Tensor.RandomNormal([2, .. item], seed: 1, dtype: DType.Float32));
        var proto = AutoGrad.Nn.Serialization.Proto.ModelProto.Parser.ParseFrom(bytes);
        var initializers = proto.Graph.Initializer.Select(i => i.Name).ToHashSet();
        Assert.Contains("layers.0.weight", initializers);
        Assert.Contains("layers.6.bias", initializers);
        Assert.Equal(17, proto.OpsetImport.Single().Version);
        Assert.Equal("batch", proto.Graph.Input.Single().Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal(6, proto.Graph.Input.Single().Type.TensorType.Shape.Dim[1].DimValue);
    }

    [Fact]
    public void An_op_without_an_onnx_form_and_bad_arguments_are_refused_by_name()
    {
        var sum = Assert.Throws<NotSupportedException>(() => Onnx.ToBytes(new Summing(), Tensor.RandomNormal([2, 3], seed: 1, dtype: DType.Float32)));
        Assert.Contains("Sum", sum.Message, StringComparison.Ordinal);
        Assert.Contains("no ONNX form", sum.Message, StringComparison.Ordinal);
        var (model, item) = Build("two-layer");
        Assert.Throws<ArgumentOutOfRangeException>(() => Onnx.ToBytes(model, Tensor.RandomNormal([2, .. item], seed: 1), opset: 12));
        Assert.Throws<ShapeMismatchException>(() => Onnx.ToBytes(model, Tensor.Scalar(1)));
    }

    [Fact]
    public void A_constant_of_the_batch_s_size_that_is_not_one_value_is_refused()
    {
        // A zero state (one value) is written as that value expanded to a shape computed at run time; other values
        // would fix the graph to one batch size.
        var constant = Assert.Throws<NotSupportedException>(() => Onnx.ToBytes(new AddsBatchSizedConstant(uniform: false), Tensor.RandomNormal([2, 3], seed: 1, dtype: DType.Float32)));
        Assert.Contains("(2, 3)", constant.Message, StringComparison.Ordinal);
        Assert.Contains("(3, 3)", constant.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Values_read_from_the_input_outside_the_recording_are_refused_instead_of_frozen()
    {
        // A model that detaches its input: the recorded graph never reads the input (the detached copy is a constant of
        // the sample's values and batch size).
        var detached = Assert.Throws<NotSupportedException>(() => Onnx.ToBytes(new Detaching(), Tensor.RandomNormal([2, 3], seed: 1, dtype: DType.Float32)));
        Assert.Contains("(2, 3) that is (3, 3) at another batch size", detached.Message, StringComparison.Ordinal);
        var detachedScalar = Assert.Throws<NotSupportedException>(() => Onnx.ToBytes(new DetachingToScalar(), Tensor.RandomNormal([2, 3], seed: 1, dtype: DType.Float32)));
        Assert.Contains("does not depend on its input", detachedScalar.Message, StringComparison.Ordinal);

        // A scale computed from the input's values (read as a number) would be frozen at the sample's.
        var scalar = Assert.Throws<NotSupportedException>(() => Onnx.ToBytes(new ScalesByInputMean(), Tensor.RandomNormal([2, 3], seed: 1, dtype: DType.Float32)));
        Assert.Contains("ScalarArithmetic", scalar.Message, StringComparison.Ordinal);
    }

    /// <summary>Split along the last axis, a narrow of the middle one, and a concat back: slices of every kind.</summary>
    private sealed class SplitsAndJoins : Module
    {
        private readonly Linear _linear = new(6, 6, seed: 14, dtype: DType.Float32);

        public override Tensor Forward(Tensor input)
        {
            var parts = Ops.Split(Ops.Tanh(input), [2, 4], axis: 2);
            var middle = Ops.Narrow(parts[1], 1, 1, 3);
            var joined = Ops.Concat([Ops.Narrow(parts[0], 1, 0, 3) * 2, Ops.Sigmoid(middle)], 2);
            return Ops.Reshape(_linear.Forward(Ops.Reshape(joined, -1, 6)), input.Shape[0], 3, 6);
        }
    }

    private sealed class Detaching : Module
    {
        private readonly Linear _linear = new(3, 2, seed: 1, dtype: DType.Float32);

        public override Tensor Forward(Tensor input) => _linear.Forward(input.Detach());
    }

    /// <summary>Its output reads only a parameter: the input is reduced outside the recording and ignored.</summary>
    private sealed class DetachingToScalar : Module
    {
        private readonly Linear _linear = new(3, 2, seed: 1, dtype: DType.Float32);

        public override Tensor Forward(Tensor input) => _linear.Forward(Tensor.Ones([input.Shape[0], 3], DType.Float32)) * 0 + _linear.Bias;
    }

    private sealed class ScalesByInputMean : Module
    {
        public override Tensor Forward(Tensor input) => Ops.Tanh(input) * input.ToDoubleArray().Average();
    }

    private sealed class AddsBatchSizedConstant(bool uniform) : Module
    {
        public override Tensor Forward(Tensor input) =>
            Ops.Tanh(input) + (uniform ? Tensor.Ones(input.Shape.Dims.ToArray(), input.DType) : Tensor.RandomNormal(input.Shape.Dims.ToArray(), seed: 3, dtype: input.DType));
    }

    /// <summary>A model's input: normal values, or for an embedding, whole-number ids below its vocabulary of 11.</summary>
    private static Tensor Input(string kind, int[] shape, int seed) => kind.StartsWith("embedding", StringComparison.Ordinal)
        ? Tensor.FromArray(Tensor.RandomUniform(shape, seed, 0, 11, DType.Float64).ToDoubleArray().Select(v => (float)Math.Floor(v)).ToArray(), shape)
        : Tensor.RandomNormal(shape, seed: seed, dtype: DType.Float32);

    /// <summary>A few SGD steps in training mode (batch norm's running statistics and dropout's masks come into play).</summary>
    private static void Train(Module model, string kind, int[] item)
    {
        if (!model.Parameters().Any())
        {
            return;
        }

        var optimizer = new Sgd(model.Parameters(), 0.05);
        using var tape = new Tape();
        for (var step = 0; step < 3; step++)
        {
            tape.Reset();
            model.ZeroGrad();
            var x = Input(kind, [8, .. item], seed: 10 + step);
            tape.Backward(Ops.Mean(Ops.Square(model.Forward(x) - 0.5)));
            optimizer.Step();
        }
    }

    private sealed class Summing : Module
    {
        public override Tensor Forward(Tensor input) => Ops.Sum(input, 1);
    }
}
