using BenchmarkDotNet.Attributes;

namespace AutoGrad.Benchmarks;

/// <summary>
/// <see cref="GemmBenchmarks"/> at products narrower than one 16-float vector, or a few columns past whole panels: the
/// book's output layer (10 classes) forward and its weight gradient, SimpleConvNet's last layer, and wide batches
/// whose narrow tail the threads share.
/// </summary>
public class NarrowGemmBenchmarks : GemmBenchmarks
{
    /// <inheritdoc/>
    [Params("100x50x10", "50x100x10 TN", "100x100x10", "2000x500x10", "2000x500x10 NT", "1000x300x42 TN", "1000x300x42")]
    public override string Shape { get; set; } = "";
}
