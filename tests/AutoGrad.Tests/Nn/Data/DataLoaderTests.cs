using AutoGrad.Nn.Data;

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

    [Fact]
    public void An_image_set_kept_as_bytes_gives_the_same_batches_as_its_floats()
    {
        var random = new SeededRandom(3);
        var pixels = Enumerable.Range(0, 50 * 12).Select(_ => (byte)random.NextInt(256)).ToArray();
        var labels = Enumerable.Range(0, 50).Select(i => i % 3).ToArray();
        var asBytes = new Dataset("bytes", pixels, 255f, labels, featureCount: 12, classCount: 3);
        var asFloats = new Dataset("floats", pixels.Select(p => p / 255f).ToArray(), labels, featureCount: 12, classCount: 3);

        var fromBytes = new DataLoader(asBytes, 8, seed: 4);
        var fromFloats = new DataLoader(asFloats, 8, seed: 4);
        for (var step = 0; step < 20; step++)
        {
            var (a, b) = (fromBytes.Next(), fromFloats.Next());
            Assert.Equal(b.Features.ToFloatArray(), a.Features.ToFloatArray());
            Assert.Equal(b.Labels.ToArray(), a.Labels.ToArray());
        }

        Assert.False(asBytes.Pixels.IsEmpty); // the loader never needed the floats
    }

    [Fact]
    public void Once_the_floats_of_an_image_set_are_taken_and_changed_loaders_read_the_changes()
    {
        var asBytes = new Dataset("bytes", [0, 51, 102, 153, 204, 255], 255f, [0, 1, 0], featureCount: 2, classCount: 2);
        Assert.Equal([0f, 0.2f, 0.4f, 0.6f, 0.8f, 1f], asBytes.Features);

        asBytes.Features[0] = 7;
        Assert.True(asBytes.Pixels.IsEmpty);
        var batch = new DataLoader(asBytes, 3, shuffle: false).Next();
        Assert.Equal(7f, batch.Features.ToFloatArray()[0]);
    }
}
