// One training epoch of SimpleConvNet on Fashion-MNIST, the loop `autograd train --model simple-cnn --dataset
// fashion-mnist --epochs 1` runs: the IDX files of Debian's dataset-fashion-mnist scaled to [0, 1], a fresh shuffle,
// 600 batches of 100 (zero_grad, forward, cross-entropy, backward, Adam 0.001). Prints the loop's seconds (data
// already in memory as one tensor, as AutoGrad holds it; no evaluation inside the timing) and the test accuracy.
using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;

using TorchSharp;

using static TorchSharp.torch;

internal static class FashionMnistEpoch
{
    private const string Folder = "/usr/share/datasets/fashion-mnist";

    public static void Run(int threads, Func<nn.Module<Tensor, Tensor>> makeModel)
    {
        var (trainImages, trainLabels) = (Images("train-images-idx3-ubyte.gz"), Labels("train-labels-idx1-ubyte.gz"));
        var (testImages, testLabels) = (Images("t10k-images-idx3-ubyte.gz"), Labels("t10k-labels-idx1-ubyte.gz"));
        var model = makeModel();
        var optimizer = torch.optim.Adam(model.parameters(), 0.001);
        var count = (int)trainImages.shape[0];
        var clock = Stopwatch.StartNew();
        using (var order = torch.randperm(count))
        {
            for (var start = 0; start + 100 <= count; start += 100)
            {
                using var scope = torch.NewDisposeScope();
                var batch = order[start..(start + 100)];
                optimizer.zero_grad();
                nn.functional.cross_entropy(model.forward(trainImages[batch]), trainLabels[batch]).backward();
                optimizer.step();
            }
        }

        var seconds = clock.Elapsed.TotalSeconds;
        double accuracy;
        using (torch.no_grad())
        using (var scope = torch.NewDisposeScope())
        {
            model.eval();
            accuracy = model.forward(testImages).argmax(1).eq(testLabels).to_type(ScalarType.Float32).mean().item<float>();
        }

        Console.WriteLine(JsonSerializer.Serialize(new { workload = "SimpleConvNet Fashion-MNIST epoch", threads, torchsharp = "0.107.0", seconds, testAccuracy = accuracy }));
    }

    /// <summary>An IDX image file as floats in [0, 1], shaped (count, 1, rows, columns).</summary>
    internal static Tensor Images(string name)
    {
        var data = Read(name);
        int count = BigEndian(data, 4), rows = BigEndian(data, 8), columns = BigEndian(data, 12);
        var pixels = data.AsSpan(16, count * rows * columns).ToArray().Select(b => b / 255f).ToArray();
        return torch.tensor(pixels, [count, 1, rows, columns]);
    }

    /// <summary>An IDX label file as int64 class indices.</summary>
    internal static Tensor Labels(string name)
    {
        var data = Read(name);
        return torch.tensor(data.AsSpan(8, BigEndian(data, 4)).ToArray().Select(b => (long)b).ToArray());
    }

    private static byte[] Read(string name)
    {
        using var file = new GZipStream(File.OpenRead(Path.Combine(Folder, name)), CompressionMode.Decompress);
        using var memory = new MemoryStream();
        file.CopyTo(memory);
        return memory.ToArray();
    }

    private static int BigEndian(byte[] data, int at) => (data[at] << 24) | (data[at + 1] << 16) | (data[at + 2] << 8) | data[at + 3];
}
