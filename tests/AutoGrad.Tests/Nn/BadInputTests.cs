using System.Reflection;

using AutoGrad.Nn.Data;
using AutoGrad.Nn.Optimizers;
using AutoGrad.Nn.Schedules;
using AutoGrad.Nn.Serialization;
using AutoGrad.Nn.Training;

using Module = AutoGrad.Nn.Module;

namespace AutoGrad.Tests.Nn;

/// <summary>
/// Bad arguments to every public module, optimizer, data, serialization and training type throw a specific
/// exception whose message names the type (or method) and the offending value.
/// </summary>
public class BadInputTests
{
    private static readonly Tensor[] s_parameters = [.. new Linear(2, 2).Parameters()];
    private static readonly Dataset s_tiny = new("tiny", [0, 1, 2, 3, 4, 5], [0, 1, 0], featureCount: 2, classCount: 2);

    public static TheoryData<string, Type, Func<object>, string[]> Cases => new()
    {
        { "linear size", typeof(ArgumentOutOfRangeException), () => new Linear(0, 3), ["Linear", "(0, 3)"] },
        { "linear input", typeof(ShapeMismatchException), () => new Linear(4, 3).Forward(Tensor.Zeros([2, 5])), ["Affine", "(2, 5)", "(4, 3)"] },
        { "linear type", typeof(DTypeMismatchException), () => new Linear(4, 3).Forward(Tensor.Zeros([2, 4], DType.Float64)), ["Affine", "float64", "float32"] },
        { "two-layer size", typeof(ArgumentOutOfRangeException), () => new TwoLayerNet(64, -5, 10), ["TwoLayerNet", "-5"] },
        { "multi-layer size", typeof(ArgumentOutOfRangeException), () => new MultiLayerNet(64, [32, 0], 10), ["MultiLayerNet", "(64, 32, 0, 10)"] },
        { "conv groups", typeof(ArgumentOutOfRangeException), () => new Conv2d(3, 4, 3, groups: 2), ["Conv2d", "groups 2", "3 input channels"] },
        { "conv size", typeof(ArgumentOutOfRangeException), () => new Conv2d(3, 0, 3), ["Conv2d", "(3, 0, 3, 3, 1)"] },
        { "conv input", typeof(ShapeMismatchException), () => new Conv2d(3, 4, 3).Forward(Tensor.Zeros([2, 1, 5, 5])), ["Conv2d", "(2, 1, 5, 5)", "(4, 3, 3, 3)"] },
        { "simple-cnn kernel", typeof(ArgumentOutOfRangeException), () => new SimpleConvNet(1, 4, 4, kernel: 5), ["SimpleConvNet", "5×5", "4×4"] },
        { "deconv groups", typeof(ArgumentOutOfRangeException), () => new ConvTranspose2d(4, 3, 2, groups: 2), ["ConvTranspose2d", "groups 2"] },
        { "batchnorm2d input", typeof(ShapeMismatchException), () => new BatchNorm2d(3).Forward(Tensor.Zeros([2, 4, 5, 5])), ["BatchNorm2d", "(N, 3, H, W)", "(2, 4, 5, 5)"] },
        { "dropout2d rank", typeof(ShapeMismatchException), () => new Dropout2d().Forward(Tensor.Zeros([2, 4])), ["Dropout2d", "(2, 4)"] },
        { "deep-cnn size", typeof(ArgumentOutOfRangeException), () => new DeepConvNet(1, 7, 7), ["DeepConvNet", "7×7", "8×8"] },
        { "max-pool rank", typeof(ShapeMismatchException), () => new MaxPool2d(2).Forward(Tensor.Zeros([2, 3])), ["MaxPool2d", "(2, 3)"] },
        { "avg-pool window", typeof(ShapeMismatchException), () => new AvgPool2d(3).Forward(Tensor.Zeros([1, 1, 2, 2])), ["AvgPool2d", "3×3", "(1, 1, 2, 2)"] },
        { "adaptive size", typeof(ArgumentOutOfRangeException), () => new AdaptiveAvgPool2d((0, 1)).Forward(Tensor.Zeros([1, 1, 2, 2])), ["AdaptiveAvgPool2d", "(0, 1)"] },
        { "flatten axes", typeof(ArgumentOutOfRangeException), () => new Flatten(2, 1).Forward(Tensor.Zeros([1, 2, 3])), ["Flatten", "startAxis 2", "(1, 2, 3)"] },
        { "multi-layer activation", typeof(ArgumentException), () => new MultiLayerNet(64, [32], 10, activation: "gelu"), ["MultiLayerNet", "gelu"] },
        { "sequential null layer", typeof(ArgumentNullException), () => new Sequential(new Relu(), null!), ["Sequential", "layer 1"] },
        { "relu null", typeof(ArgumentNullException), () => new Relu().Forward(null!), ["Relu", "'x'"] },
        { "sigmoid null", typeof(ArgumentNullException), () => new Sigmoid().Forward(null!), ["Sigmoid", "'x'"] },
        { "tanh null", typeof(ArgumentNullException), () => new Tanh().Forward(null!), ["Tanh", "'x'"] },
        { "gelu null", typeof(ArgumentNullException), () => new Gelu().Forward(null!), ["Gelu", "'x'"] },
        { "leaky slope", typeof(ArgumentOutOfRangeException), () => new LeakyRelu(double.NaN).Forward(Tensor.Zeros([2])), ["LeakyRelu", "slope"] },
        { "elu alpha", typeof(ArgumentOutOfRangeException), () => new Elu(double.PositiveInfinity).Forward(Tensor.Zeros([2])), ["Elu", "alpha"] },
        { "selu null", typeof(ArgumentNullException), () => new Selu().Forward(null!), ["Selu", "'x'"] },
        { "silu null", typeof(ArgumentNullException), () => new Silu().Forward(null!), ["Silu", "'x'"] },
        { "softplus null", typeof(ArgumentNullException), () => new Softplus().Forward(null!), ["Softplus", "'x'"] },
        { "mish null", typeof(ArgumentNullException), () => new Mish().Forward(null!), ["Mish", "'x'"] },
        { "softsign null", typeof(ArgumentNullException), () => new Softsign().Forward(null!), ["Softsign", "'x'"] },
        { "hardtanh bounds", typeof(ArgumentOutOfRangeException), () => new HardTanh(1, -1).Forward(Tensor.Zeros([2])), ["HardTanh", "max -1", "min 1"] },
        { "softmax axis", typeof(ArgumentOutOfRangeException), () => new Softmax(3).Forward(Tensor.Zeros([2, 3])), ["Softmax", "axis 3", "(2, 3)"] },
        { "dropout probability", typeof(ArgumentOutOfRangeException), () => new Dropout(1.0), ["Dropout", "[0, 1)"] },
        { "dropout nan", typeof(ArgumentOutOfRangeException), () => new Dropout(double.NaN), ["Dropout", "NaN"] },
        { "batch norm momentum", typeof(ArgumentOutOfRangeException), () => new BatchNorm1d(3, momentum: 2), ["BatchNorm1d", "momentum 2"] },
        { "batch norm epsilon", typeof(ArgumentOutOfRangeException), () => new BatchNorm1d(3, epsilon: double.NaN), ["BatchNorm1d", "epsilon NaN"] },
        { "batch norm input", typeof(ShapeMismatchException), () => new BatchNorm1d(3).Forward(Tensor.Zeros([2, 4])), ["BatchNorm1d", "(N, 3)", "(2, 4)"] },
        { "batch norm one sample", typeof(ArgumentException), () => new BatchNorm1d(3).Forward(Tensor.Zeros([1, 3])), ["BatchNorm1d", "2 samples", "(1, 3)"] },
        { "layer norm size", typeof(ArgumentOutOfRangeException), () => new LayerNorm(0), ["LayerNorm"] },
        { "layer norm epsilon", typeof(ArgumentOutOfRangeException), () => new LayerNorm(3, epsilon: 0), ["LayerNorm", "epsilon 0"] },
        { "layer norm input", typeof(ShapeMismatchException), () => new LayerNorm(3).Forward(Tensor.Zeros([2, 4])), ["LayerNorm", "3", "(2, 4)"] },
        { "embedding size", typeof(ArgumentOutOfRangeException), () => new Embedding(0, 4), ["Embedding"] },
        { "lstm input", typeof(ShapeMismatchException), () => new Lstm(3, 2).Forward(Tensor.Zeros([2, 4])), ["Lstm", "(N, T, 3)", "(2, 4)"] },
        { "lstm cell state", typeof(ShapeMismatchException), () => new Lstm(3, 2).Forward(Tensor.Zeros([2, 4, 3]), null, Tensor.Zeros([3, 2])), ["Lstm", "cell state", "(3, 2)", "(2, 2)"] },
        { "gru input", typeof(ShapeMismatchException), () => new Gru(3, 2).Forward(Tensor.Zeros([2, 0, 3])), ["Gru", "(2, 0, 3)"] },
        { "rnn state", typeof(ShapeMismatchException), () => new Rnn(3, 2).Forward(Tensor.Zeros([2, 4, 3]), Tensor.Zeros([2, 3])), ["Rnn", "hidden state", "(2, 3)"] },
        { "rnn size", typeof(ArgumentOutOfRangeException), () => new Rnn(3, 0), ["Rnn"] },
        { "attention heads", typeof(ArgumentException), () => new MultiHeadAttention(6, 4), ["MultiHeadAttention", "4 heads", "width 6"] },
        { "attention input", typeof(ShapeMismatchException), () => new MultiHeadAttention(4, 2).Forward(Tensor.Zeros([2, 3, 5])), ["MultiHeadAttention", "(2, 3, 5)"] },
        { "transformer input", typeof(ShapeMismatchException), () => new TransformerBlock(4, 2).Forward(Tensor.Zeros([2, 4])), ["TransformerBlock", "(N, T, 4)", "(2, 4)"] },
        { "transformer hidden", typeof(ArgumentOutOfRangeException), () => new TransformerBlock(4, 2, hidden: -1), ["TransformerBlock", "-1"] },
        { "positions too long", typeof(ArgumentException), () => new PositionalEncoding(3, 4).Forward(Tensor.Zeros([1, 5, 4])), ["PositionalEncoding", "5 steps", "3 positions"] },
        { "embedding id", typeof(ArgumentOutOfRangeException), () => new Embedding(5, 2).Forward(IntTensor.FromArray([1, 5])), ["Embedding", "id 5", "position 1"] },
        { "embedding fraction", typeof(ArgumentException), () => new Embedding(5, 2).Forward(Tensor.FromArray([1.5f])), ["Embedding", "1.5", "(1,)"] },
        { "weight init std", typeof(ArgumentOutOfRangeException), () => WeightInit.Std(-1), ["WeightInit", "-1"] },
        { "weight init name", typeof(FormatException), () => WeightInit.Parse("glorot"), ["WeightInit", "glorot"] },

        { "sgd learning rate", typeof(ArgumentOutOfRangeException), () => new Sgd(s_parameters, double.NaN), ["Sgd", "learningRate", "NaN"] },
        { "sgd no parameters", typeof(ArgumentException), () => new Sgd([], 0.1), ["Sgd", "no parameters"] },
        { "momentum", typeof(ArgumentOutOfRangeException), () => new Momentum(s_parameters, 0.1, momentum: 1), ["Momentum", "momentum", "[0, 1)"] },
        { "nesterov", typeof(ArgumentOutOfRangeException), () => new Nesterov(s_parameters, 0.1, momentum: -0.5), ["Nesterov", "momentum", "-0.5"] },
        { "adagrad epsilon", typeof(ArgumentOutOfRangeException), () => new AdaGrad(s_parameters, 0.1, epsilon: 0), ["AdaGrad", "epsilon"] },
        { "rmsprop decay", typeof(ArgumentOutOfRangeException), () => new RmsProp(s_parameters, 0.1, decay: 1.5), ["RmsProp", "decay", "1.5"] },
        { "adam beta", typeof(ArgumentOutOfRangeException), () => new Adam(s_parameters, beta2: 1), ["Adam", "beta2"] },
        { "adam weight decay", typeof(ArgumentOutOfRangeException), () => new Adam(s_parameters, weightDecay: -1), ["Adam", "weightDecay", "-1"] },
        { "adamw weight decay", typeof(ArgumentOutOfRangeException), () => new AdamW(s_parameters, weightDecay: double.NaN), ["AdamW", "weightDecay", "NaN"] },
        { "learning rate schedule", typeof(ArgumentOutOfRangeException), () => new Sgd(s_parameters, 0.1) { LearningRate = 0 }, ["Sgd", "learningRate", "0"] },
        { "step decay size", typeof(ArgumentOutOfRangeException), () => new StepDecay(new Sgd(s_parameters, 0.1), 0), ["StepDecay", "stepSize", "0"] },
        { "exponential gamma", typeof(ArgumentOutOfRangeException), () => new ExponentialDecay(new Sgd(s_parameters, 0.1), 1.5), ["ExponentialDecay", "gamma", "1.5"] },
        { "cosine warm-up", typeof(ArgumentOutOfRangeException), () => new CosineWithWarmup(new Sgd(s_parameters, 0.1), 5, 5), ["CosineWithWarmup", "warmupSteps", "[0, 5)"] },
        { "one-cycle start", typeof(ArgumentOutOfRangeException), () => new OneCycle(new Sgd(s_parameters, 0.1), 0.2, 10, percentStart: 1), ["OneCycle", "percentStart", "1"] },
        { "plateau goal", typeof(ArgumentOutOfRangeException), () => new ReduceOnPlateau(new Sgd(s_parameters, 0.1), (MetricGoal)2), ["ReduceOnPlateau", "2"] },
        { "plateau factor", typeof(ArgumentOutOfRangeException), () => new ReduceOnPlateau(new Sgd(s_parameters, 0.1), factor: 1), ["ReduceOnPlateau", "factor", "1"] },
        { "clip norm", typeof(ArgumentOutOfRangeException), () => GradientClipping.ClipByGlobalNorm(s_parameters, 0), ["ClipByGlobalNorm", "maxNorm"] },

        { "dataset sizes", typeof(ArgumentException), () => new Dataset("d", new float[5], [0, 1], 3, 2), ["Dataset d", "5 feature values", "2 samples of 3"] },
        { "dataset label", typeof(ArgumentException), () => new Dataset("d", new float[6], [0, 2], 3, 2), ["Dataset d", "label 2", "sample 1"] },
        { "dataset nan", typeof(ArgumentException), () => new Dataset("d", [0, 0, 0, 0, float.PositiveInfinity, 0], [0, 1], 3, 2), ["Dataset d", "feature 1 of sample 1", "finite"] },
        { "dataset classes", typeof(ArgumentOutOfRangeException), () => new Dataset("d", new float[6], [0, 0], 3, 0), ["Dataset d", "0 classes"] },
        { "subset index", typeof(ArgumentOutOfRangeException), () => s_tiny.Subset([0, 3]), ["Subset", "index 3", "position 1", "3 samples"] },
        { "split fraction", typeof(ArgumentOutOfRangeException), () => s_tiny.Split(1, seed: 0), ["Split", "(0, 1)"] },
        { "data loader batch", typeof(ArgumentOutOfRangeException), () => new DataLoader(s_tiny, 4), ["DataLoader", "[1, 3]", "tiny"] },
        { "idx reader magic", typeof(IdxFormatException), () => IdxReader.Read(new MemoryStream([1, 2, 3, 4, 0, 0, 0, 1, 7]), "bad.idx"), ["bad.idx", "magic"] },
        { "idx directory", typeof(DirectoryNotFoundException), () => Dataset.FromIdxDirectory("/no/such/folder", "mine"), ["/no/such/folder"] },

        { "npy type", typeof(CheckpointFormatException), () => Npy.Read(new MemoryStream("\u0093NUMPY\u0001\u0000"u8.ToArray()), "w.npy"), ["w.npy"] },
        { "npz entry", typeof(CheckpointFormatException), () => Npz.Read(new MemoryStream([0x50, 0x4b, 0x03, 0x04, 0, 0]), "w.npz"), ["w.npz"] },
        { "safetensors header", typeof(CheckpointFormatException), () => SafeTensors.Read(new MemoryStream([0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0x7b]), "w.safetensors"), ["w.safetensors", "header"] },
        { "torch state dict shape", typeof(CheckpointFormatException), () => new Linear(3, 2).LoadTorchStateDict([("weight", Tensor.Zeros([3, 2])), ("bias", Tensor.Zeros([2]))]), ["weight", "(3, 2)", "(2, 3)"] },
        { "onnx sample", typeof(ShapeMismatchException), () => Onnx.ToBytes(new Linear(3, 2), Tensor.Scalar(1)), ["Onnx.Export", "()"] },
        { "pt legacy", typeof(CheckpointFormatException), () => TorchFile.Read(new MemoryStream([0x80, 2, 0x8a, 0x0a]), "old.pt"), ["old.pt", "legacy"] },
        { "checkpoint model", typeof(CheckpointFormatException), () => SaveThenLoadInto(new Linear(3, 2)), ["weight", "(3, 2)", "(4, 2)"] },
        { "atomic file folder", typeof(DirectoryNotFoundException), () => AtomicWrite("/no/such/folder/w.bin"), ["/no/such/folder"] },

        { "fit mismatched sets", typeof(ArgumentException), () => Trainer.Fit(new Linear(2, 2), new Sgd(s_parameters), s_tiny, Dataset.Digits(), new TrainingOptions()), ["Fit", "tiny", "digits", "64"] },
        { "fit iterations", typeof(ArgumentOutOfRangeException), () => Trainer.Fit(new Linear(2, 2), new Sgd(s_parameters), s_tiny, s_tiny, new TrainingOptions { BatchSize = 3, Iterations = 0 }), ["Fit", "iterations"] },
        { "step labels", typeof(ArgumentOutOfRangeException), () => StepWithLabels([0, 5]), ["SoftmaxWithLoss", "label 5", "row 1"] },
        { "tensor dataset targets", typeof(ShapeMismatchException), () => new TensorDataset(Tensor.Zeros([10, 2]), Tensor.Zeros([9, 1])), ["TensorDataset", "10 samples", "(9, 1)"] },
        { "general fit epochs", typeof(ArgumentOutOfRangeException), () => Trainer.Fit(new Linear(2, 2), new Sgd(s_parameters), s_tiny.ToTensorDataset(), null, Loss.CrossEntropy, new FitOptions { Epochs = 0 }), ["Fit", "Epochs (0)"] },
        { "accuracy model", typeof(ShapeMismatchException), () => Trainer.Accuracy(new Linear(3, 2), s_tiny, DType.Float32), ["Affine", "(3, 2)"] },
    };

    /// <summary>Types that carry values and have no behavior to misuse (results, progress reports, batches, options read by Fit).</summary>
    private static readonly HashSet<Type> s_plainData =
        [typeof(Batch), typeof(IdxArray), typeof(TrainingOptions), typeof(TrainingProgress), typeof(TrainingResult),
            typeof(SupervisedBatch), typeof(Loss), typeof(Metric), typeof(FitOptions), typeof(EarlyStopping), typeof(EpochReport), typeof(FitResult), typeof(TorchLoadReport)];

    /// <summary>Every public, concrete, non-exception, non-enum type of the model, optimizer, schedule, data, serialization and training namespaces.</summary>
    public static TheoryData<string> PublicTypes => [.. typeof(Module).Assembly.GetExportedTypes()
        .Where(t => t.Namespace is "AutoGrad.Nn" or "AutoGrad.Nn.Optimizers" or "AutoGrad.Nn.Schedules" or "AutoGrad.Nn.Data" or "AutoGrad.Nn.Serialization" or "AutoGrad.Nn.Training")
        .Where(t => !(t.IsAbstract && !t.IsSealed) && !t.IsEnum && !typeof(Exception).IsAssignableFrom(t) && !s_plainData.Contains(t))
        .Select(t => t.Name)
        .Order()];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Throws_a_specific_exception_naming_the_type_and_the_value(string name, Type type, Func<object> call, string[] fragments)
    {
        var e = Assert.Throws(type, () => call());
        foreach (var fragment in fragments)
        {
            Assert.True(e.Message.Contains(fragment, StringComparison.Ordinal), $"{name}: '{fragment}' missing from: {e.Message}");
        }
    }

    [Theory]
    [MemberData(nameof(PublicTypes))]
    public void Every_public_type_has_a_case(string type)
    {
        var calls = Cases.Select(row => ((Func<object>)row[2]).Method).ToList();
        Assert.True(calls.Any(method => Mentions(method, type)), $"no bad-input case constructs or calls {type}");
    }

    /// <summary>
    /// Whether a case's lambda references the type (a constructor or method call), read from its IL's tokens, looking
    /// one level into this class's helpers.
    /// </summary>
    private static bool Mentions(MethodBase lambda, string type, int depth = 0)
    {
        var body = lambda.GetMethodBody()?.GetILAsByteArray() ?? [];
        var module = lambda.Module;
        for (var i = 0; i + 4 < body.Length; i++)
        {
            // call (0x28), callvirt (0x6F) and newobj (0x73) take a 4-byte method token.
            if (body[i] is not (0x28 or 0x6F or 0x73))
            {
                continue;
            }

            try
            {
                var member = module.ResolveMethod(BitConverter.ToInt32(body, i + 1), lambda.DeclaringType?.GetGenericArguments(), null);
                if (member?.DeclaringType?.Name == type)
                {
                    return true;
                }

                if (depth == 0 && member?.DeclaringType == typeof(BadInputTests) && Mentions(member, type, depth + 1))
                {
                    return true;
                }
            }
            catch (ArgumentException)
            {
                // Not a method token: the byte was an operand of another instruction.
            }
        }

        return false;
    }

    private static object SaveThenLoadInto(Module model)
    {
        var path = Path.Combine(Path.GetTempPath(), $"autograd-bad-input-{Guid.NewGuid():N}.safetensors");
        try
        {
            Checkpoint.Save(new Linear(4, 2), path);
            Checkpoint.Load(model, path);
            return model;
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static object AtomicWrite(string path)
    {
        AtomicFile.Write(path, stream => stream.WriteByte(1));
        return path;
    }

    private static object StepWithLabels(int[] labels)
    {
        var model = new Linear(2, 2);
        using var tape = new Tape();
        return Trainer.Step(model, new Sgd(model.Parameters()), tape, Tensor.Zeros([2, 2]), labels);
    }
}
