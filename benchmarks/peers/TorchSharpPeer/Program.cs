// The workloads of benchmarks/peers/convnet_step.py in TorchSharp: SimpleConvNet and DeepConvNet training steps on a
// fixed batch of 100 images 1×28×28 (zero_grad, forward, cross-entropy, backward, Adam), and DeepConvNet's six
// convolutions alone (forward, and backward to the input and the filters). One JSON line per workload: the median ms.
// With "epoch" after the thread count: one epoch of SimpleConvNet on Fashion-MNIST instead (FashionMnistEpoch.cs);
// with "book" (and optionally a step count), the book's 784-50-10 Fashion-MNIST loop (BookLoop.cs); with "sequence", issue 15's LSTM step and transformer block (SequenceWorkloads.cs); with "gemm", issue 17's
// torch.mm figures (GemmWorkloads.cs; "gemm quick" for compare.py's few).
using System.Text.Json;

using TorchSharp;

using static TorchSharp.torch;
using static TorchSharp.torch.nn;

var threads = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 1;
torch.set_num_threads(threads);
torch.manual_seed(1);
if (args.Length > 1 && args[1] == "epoch")
{
    FashionMnistEpoch.Run(threads, SimpleConvNet);
    return;
}

if (args.Length > 1 && args[1] == "book")
{
    BookLoop.Run(threads, args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 10_000);
    return;
}

if (args.Length > 1 && args[1] == "sequence")
{
    SequenceWorkloads.Run(threads);
    return;
}

if (args.Length > 1 && args[1] == "gemm")
{
    GemmWorkloads.Run(threads, quick: args.Length > 2 && args[2] == "quick");
    return;
}

(int In, int Out, int Padding, int Side)[] deep = [(1, 16, 1, 28), (16, 16, 1, 28), (16, 32, 1, 14), (32, 32, 2, 14), (32, 64, 1, 8), (64, 64, 1, 8)];
var x = torch.rand(100, 1, 28, 28);
var t = torch.randint(0, 10, [100], dtype: ScalarType.Int64);

Module<Tensor, Tensor> SimpleConvNet() => Sequential(
    Conv2d(1, 30, 5), ReLU(), MaxPool2d(2), Flatten(), Linear(30 * 12 * 12, 100), ReLU(), Linear(100, 10));

Module<Tensor, Tensor> DeepConvNet()
{
    var layers = new List<Module<Tensor, Tensor>>();
    var channels = 1;
    for (var i = 0; i < deep.Length; i++)
    {
        layers.Add(Conv2d(channels, deep[i].Out, 3, padding: deep[i].Padding));
        layers.Add(ReLU());
        if (i % 2 == 1)
        {
            layers.Add(MaxPool2d(2));
        }

        channels = deep[i].Out;
    }

    layers.AddRange([Flatten(), Linear(64 * 4 * 4, 50), ReLU(), Dropout(0.5), Linear(50, 10)]);
    return Sequential(layers);
}

foreach (var (name, make) in new (string, Func<Module<Tensor, Tensor>>)[] { ("SimpleConvNet step", SimpleConvNet), ("DeepConvNet step", DeepConvNet) })
{
    var model = make();
    var optimizer = torch.optim.Adam(model.parameters(), 0.001);
    var ms = Timing.MedianMs(
        () =>
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            functional.cross_entropy(model.forward(x), t).backward();
            optimizer.step();
        },
        30);
    Console.WriteLine(JsonSerializer.Serialize(new { workload = name, threads, torchsharp = "0.107.0", ms }));
}

var convolutions = deep.Select(l => (Layer: Conv2d(l.In, l.Out, 3, padding: l.Padding), Input: torch.rand(100, l.In, l.Side, l.Side).requires_grad_())).ToArray();
var flops = 3 * deep.Sum(l => 2.0 * 100 * l.Out * Math.Pow(l.Side + (2 * l.Padding) - 2, 2) * l.In * 9);
var convMs = Timing.MedianMs(
    () =>
    {
        using var scope = torch.NewDisposeScope();
        foreach (var (layer, input) in convolutions)
        {
            layer.forward(input).mean().backward();
        }
    },
    20);
Console.WriteLine(JsonSerializer.Serialize(new { workload = "DeepConvNet convolutions", threads, torchsharp = "0.107.0", ms = convMs, gflops = flops / convMs / 1e6 }));
