using AutoGrad.Nn.Data;

namespace AutoGrad.Tests.Nn.Data;

public class DatasetTests
{
    [Fact]
    public void The_embedded_digits_load_and_verify()
    {
        var digits = Dataset.Digits();
        Assert.Equal(1797, digits.Count);
        Assert.Equal(64, digits.FeatureCount);
        Assert.Equal(10, digits.ClassCount);
        Assert.All(Enumerable.Range(0, 10), c => Assert.InRange(digits.Labels.Count(l => l == c), 170, 190));
        Assert.Equal(0f, digits.Features.Min());
        Assert.Equal(1f, digits.Features.Max());
        Assert.Equal(5 / 16f, digits.Features[2]); // the first row starts 0, 0, 5, 13, …
        Assert.Equal(0, digits.Labels[0]);
    }

    [Fact]
    public void Split_is_seeded_and_disjoint()
    {
        var digits = Dataset.Digits();
        var (train, test) = digits.Split(0.8, seed: 3);
        Assert.Equal(1438, train.Count);
        Assert.Equal(359, test.Count);
        var (again, _) = digits.Split(0.8, seed: 3);
        Assert.Equal(train.Features, again.Features);
        var (other, _) = digits.Split(0.8, seed: 4);
        Assert.NotEqual(train.Labels, other.Labels);
        Assert.Equal(digits.Labels.Sum(), train.Labels.Sum() + test.Labels.Sum());
    }

    [Fact]
    public void A_subset_of_a_set_kept_as_bytes_stays_bytes_and_holds_the_same_values()
    {
        byte[] pixels = [0, 51, 102, 153, 204, 255, 1, 2, 3];
        var data = new Dataset("bytes", pixels, 255f, [0, 1, 2], featureCount: 3, classCount: 3) { ImageShape = (1, 1, 3) };
        var subset = data.Subset([2, 0, 2], "picked");
        Assert.False(subset.Pixels.IsEmpty);
        Assert.True(data.Pixels.Length == pixels.Length, "the whole set was widened to floats"); // still bytes
        Assert.Equal([1 / 255f, 2 / 255f, 3 / 255f, 0f, 51 / 255f, 102 / 255f, 1 / 255f, 2 / 255f, 3 / 255f], subset.Features);
        Assert.Equal([2, 0, 2], subset.Labels);
        Assert.Equal(("picked", (1, 1, 3)), (subset.Name, subset.ImageShape));
    }

    [Fact]
    public void Standardize_uses_the_given_statistics()
    {
        var data = new Dataset("toy", [1f, 10f, 3f, 10f], [0, 1], 2, 2);
        var standardized = data.Standardize();
        Assert.Equal([-1f, 0f, 1f, 0f], standardized.Features); // the constant feature keeps std 1
    }

    [Fact]
    public void Inconsistent_data_is_rejected()
    {
        Assert.Contains("samples", Assert.Throws<ArgumentException>(() => new Dataset("x", [1f, 2f, 3f], [0, 1], 2, 2)).Message);
        Assert.Contains("label 5", Assert.Throws<ArgumentException>(() => new Dataset("x", [1f, 2f], [0, 5], 1, 2)).Message);
    }

    [Fact]
    public void Fashion_mnist_loads_from_the_debian_package()
    {
        var (train, test) = Dataset.FashionMnist();
        Assert.Equal(60000, train.Count);
        Assert.Equal(10000, test.Count);
        Assert.Equal(784, train.FeatureCount);
        Assert.All(Enumerable.Range(0, 10), c => Assert.Equal(1000, test.Labels.Count(l => l == c)));
        Assert.InRange(train.Features.Average(), 0.27, 0.30); // Fashion-MNIST's mean pixel is 0.286
    }

    [Fact]
    public void A_missing_folder_is_reported_with_the_install_hint()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => Dataset.FashionMnist("/nonexistent/fashion"));
        Assert.Contains("dataset-fashion-mnist", e.Message);
    }
}
