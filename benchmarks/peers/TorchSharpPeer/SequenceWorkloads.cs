// Issue 15's sequence workloads in TorchSharp, as benchmarks/AutoGrad.Benchmarks/SequenceBenchmarks.cs runs them:
// an LSTM language-model training step (batch 32, 35 steps, embedding 128, hidden 256, vocabulary 1,000, Adam) and
// one causal pre-norm transformer block forward and backward (batch 16, 64 tokens, width 128, 4 heads, GELU, 4x
// feed-forward). One JSON line per workload: the median ms.
using System.Text.Json;

using TorchSharp;

using static TorchSharp.torch;
using static TorchSharp.torch.nn;

internal static class SequenceWorkloads
{
    public static void Run(int threads)
    {
        var embedding = Embedding(1000, 128);
        var lstm = LSTM(128, 256, batchFirst: true);
        var decoder = Linear(256, 1000);
        var parameters = embedding.parameters().Concat(lstm.parameters()).Concat(decoder.parameters());
        var optimizer = torch.optim.Adam(parameters, 0.001);
        var ids = torch.randint(0, 1000, [32, 35], dtype: ScalarType.Int64);
        var targets = torch.randint(0, 1000, [32 * 35], dtype: ScalarType.Int64);
        var lstmMs = Timing.MedianMs(
            () =>
            {
                using var scope = torch.NewDisposeScope();
                optimizer.zero_grad();
                var (hidden, _, _) = lstm.forward(embedding.forward(ids));
                var scores = decoder.forward(hidden.reshape(32 * 35, 256));
                functional.cross_entropy(scores, targets).backward();
                optimizer.step();
            },
            20);
        Console.WriteLine(JsonSerializer.Serialize(new { workload = "LSTM step", threads, torchsharp = "0.107.0", ms = lstmMs }));

        var norm1 = LayerNorm(128);
        var attention = MultiheadAttention(128, 4);
        var norm2 = LayerNorm(128);
        var expand = Linear(128, 512);
        var contract = Linear(512, 128);
        var tokens = torch.randn(16, 64, 128).requires_grad_();
        var causal = torch.triu(torch.ones(64, 64), 1).to(ScalarType.Bool);
        var blockMs = Timing.MedianMs(
            () =>
            {
                using var scope = torch.NewDisposeScope();
                // TorchSharp's attention takes (T, N, E).
                var normed = norm1.forward(tokens).transpose(0, 1);
                var (attended, _) = attention.forward(normed, normed, normed, null, false, causal);
                var x = tokens + attended.transpose(0, 1);
                var y = x + contract.forward(functional.gelu(expand.forward(norm2.forward(x))));
                y.mean().backward();
            },
            20);
        Console.WriteLine(JsonSerializer.Serialize(new { workload = "TransformerBlock forward + backward", threads, torchsharp = "0.107.0", ms = blockMs }));
    }
}
