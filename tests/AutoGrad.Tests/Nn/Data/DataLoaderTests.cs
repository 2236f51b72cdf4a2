using AutoGrad.Data;

namespace AutoGrad.Tests.Nn.Data;

public class DataLoaderTests
{
    private static readonly Dataset s_data = new("toy", Enumerable.Range(0, 20).Select(i => (float)i).ToArray(), Enumerable.Range(0, 10).Select(i => i % 3).ToArray(), 2, 3);

    [Fact]
    public void An_epoch_visits_every_sample_once_in_batches()
    {
        var loader = new DataLoader(s_data, 4, shuffle: true, seed: 1);
        Assert.Equal(3, loader.BatchesPerEpoch);
        var firstFeatures = new List<float>();
        var sizes = new List<int>();
        foreach (var batch in loader.NextEpoch())
        {
            sizes.Add(batch.Size);
            var f = batch.Features.AsReadOnlySpan<float>();
            for (var i = 0; i < batch.Size; i++)
            {
                firstFeatures.Add(f[i * 2]);
                Assert.Equal(f[i * 2] + 1, f[(i * 2) + 1]); // rows stay whole
                Assert.Equal((int)(f[i * 2] / 2) % 3, batch.Labels.Span[i]); // labels follow their rows
            }
        }

        Assert.Equal([4, 4, 2], sizes);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => 2f * i), firstFeatures.Order());
        Assert.NotEqual(Enumerable.Range(0, 10).Select(i => 2f * i), firstFeatures); // shuffled
    }

    [Fact]
    public void Drop_last_skips_the_partial_batch_and_epochs_reshuffle_deterministically()
    {
        var a = new DataLoader(s_data, 4, seed: 7, dropLast: true);
        var b = new DataLoader(s_data, 4, seed: 7, dropLast: true);
        Assert.Equal(2, a.BatchesPerEpoch);
        var orderA = Enumerable.Range(0, 6).Select(_ => a.Next().Features.ToFloatArray()).ToList();
        var orderB = Enumerable.Range(0, 6).Select(_ => b.Next().Features.ToFloatArray()).ToList();
        Assert.Equal(orderA, orderB);
        Assert.Equal(2, a.Epoch);
        Assert.NotEqual(orderA[0], orderA[2]); // a new epoch, a new order
    }

    [Fact]
    public void Float64_batches_hold_the_same_values()
    {
        var loader = new DataLoader(s_data, 5, shuffle: false, dtype: DType.Float64);
        var batch = loader.Next();
        Assert.Equal(DType.Float64, batch.Features.DType);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (double)i), batch.Features.ToDoubleArray());
    }
}
