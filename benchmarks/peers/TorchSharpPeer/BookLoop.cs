// The book's Fashion-MNIST loop, as `autograd train --dataset fashion-mnist --hidden 50 --optimizer sgd --lr 0.1
// --batch 100 --iterations 10000 --init 0.01` runs it: 784-50-10 with ReLU, weights N(0, 0.01²), zero biases, softmax
// cross-entropy, SGD 0.1, batches of 100 from a fresh shuffle every epoch (600 batches), 10,000 steps. The data sit in
// memory as one float tensor before the clock starts, as AutoGrad holds its set; no evaluation inside the timing.
// Then the same steps on one fixed batch, so the loop's cost beyond its steps shows in the same run as AutoGrad's.
using System.Diagnostics;
using System.Text.Json;

using TorchSharp;

using static TorchSharp.torch;

internal static class BookLoop
{
    private const int Batch = 100;

    public static void Run(int threads, int iterations)
    {
        var images = FashionMnistEpoch.Images("train-images-idx3-ubyte.gz").reshape(-1, 784);
        var labels = FashionMnistEpoch.Labels("train-labels-idx1-ubyte.gz");
        var testImages = FashionMnistEpoch.Images("t10k-images-idx3-ubyte.gz").reshape(-1, 784);
        var testLabels = FashionMnistEpoch.Labels("t10k-labels-idx1-ubyte.gz");
        var count = (int)images.shape[0];

        var w1 = nn.Parameter(0.01 * torch.randn(784, 50));
        var b1 = nn.Parameter(torch.zeros(50));
        var w2 = nn.Parameter(0.01 * torch.randn(50, 10));
        var b2 = nn.Parameter(torch.zeros(10));
        var optimizer = torch.optim.SGD([w1, b1, w2, b2], 0.1);
        void Step(Tensor x, Tensor t)
        {
            optimizer.zero_grad();
            nn.functional.cross_entropy(nn.functional.relu(x.matmul(w1) + b1).matmul(w2) + b2, t).backward();
            optimizer.step();
        }

        var order = torch.randperm(count);
        var clock = Stopwatch.StartNew();
        for (int step = 0, start = 0; step < iterations; step++, start += Batch)
        {
            using var scope = torch.NewDisposeScope();
            if (start + Batch > count)
            {
                order.Dispose();
                order = torch.randperm(count).MoveToOuterDisposeScope();
                start = 0;
            }

            var batch = order[start..(start + Batch)];
            Step(images[batch], labels[batch]);
        }

        var seconds = clock.Elapsed.TotalSeconds;
        double accuracy;
        using (torch.no_grad())
        using (var scope = torch.NewDisposeScope())
        {
            var scores = nn.functional.relu(testImages.matmul(w1) + b1).matmul(w2) + b2;
            accuracy = scores.argmax(1).eq(testLabels).to_type(ScalarType.Float32).mean().item<float>();
        }

        var fixedImages = images[..Batch];
        var fixedLabels = labels[..Batch];
        var fixedMs = Timing.MedianMs(
            () =>
            {
                for (var i = 0; i < 200; i++)
                {
                    using var scope = torch.NewDisposeScope();
                    Step(fixedImages, fixedLabels);
                }
            },
            15);

        Console.WriteLine(JsonSerializer.Serialize(new
        {
            workload = "book loop 784-50-10 SGD, Fashion-MNIST",
            threads,
            torchsharp = "0.107.0",
            iterations,
            seconds,
            microsecondsPerStep = seconds / iterations * 1e6,
            fixedBatchMicrosecondsPerStep = fixedMs / 200 * 1e3,
            testAccuracy = accuracy,
        }));
    }
}
