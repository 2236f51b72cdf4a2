using System.Globalization;
using System.Text.RegularExpressions;

namespace AutoGrad.Tests.Integration;

[Collection(nameof(ConsoleCapture))]
public class SampleTests
{
    [Fact]
    public void TwoLayerNet_passes_its_gradient_check_and_learns_the_digits()
    {
        var output = SampleRunner.Run("TwoLayerNet");
        var differences = Regex.Matches(output, @"mean \|backprop − numerical\| = (\S+)").Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(4, differences.Count);
        Assert.All(differences, d => Assert.InRange(d, 0, 1e-8));
        var last = Regex.Matches(output, @"test accuracy (\S+) %").Last();
        Assert.True(double.Parse(last.Groups[1].Value, CultureInfo.InvariantCulture) >= 94, output);
    }

    [Fact]
    public void CustomOp_passes_its_gradient_check_and_differentiates_twice()
    {
        var output = SampleRunner.Run("CustomOp");
        Assert.Contains("passed", output);
        var values = Regex.Matches(output, @"= (-?\d+\.\d+) \([^=]+= (-?\d+\.\d+)\)");
        Assert.Equal(2, values.Count);
        Assert.All(values, m => Assert.Equal(m.Groups[2].Value, m.Groups[1].Value));
    }

    [Fact]
    public void TanhDerivatives_plots_four_derivatives_with_the_right_values_at_zero()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tanh-{Guid.NewGuid():N}.svg");
        try
        {
            var output = SampleRunner.Run("TanhDerivatives", path);
            Assert.Contains("d1 1.000000, d2 0.000000, d3 -2.000000, d4 0.000000", output);
            var svg = System.Xml.Linq.XDocument.Load(path);
            Assert.Equal(5, svg.Descendants().Count(e => e.Name.LocalName == "polyline"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ConvNet_passes_the_books_gradient_check_learns_the_digits_and_draws_30_filters()
    {
        var path = Path.Combine(Path.GetTempPath(), $"filters-{Guid.NewGuid():N}.svg");
        try
        {
            var output = SampleRunner.Run("ConvNet", path);
            var differences = Regex.Matches(output, @"mean \|backprop − numerical\| = (\S+)").Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(6, differences.Count); // conv, affine1 and affine2, a weight and a bias each
            Assert.All(differences, d => Assert.InRange(d, 0, 1e-8));
            var accuracy = Regex.Match(output, @"test accuracy (\S+) %");
            Assert.True(double.Parse(accuracy.Groups[1].Value, CultureInfo.InvariantCulture) >= 98, output);

            var svg = System.Xml.Linq.XDocument.Load(path);
            var filters = svg.Descendants().Where(e => e.Name.LocalName == "g").ToList();
            Assert.Equal(30, filters.Count);
            Assert.All(filters, f => Assert.Equal(25, f.Elements().Count(e => e.Name.LocalName == "rect")));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Spiral_separates_the_three_arms()
    {
        var output = SampleRunner.Run("Spiral");
        var accuracy = Regex.Match(output, @"accuracy (\S+) %");
        Assert.True(double.Parse(accuracy.Groups[1].Value, CultureInfo.InvariantCulture) >= 90, output);
    }
}

/// <summary>Tests that redirect <see cref="Console.Out"/> must not run at the same time.</summary>
[CollectionDefinition(nameof(ConsoleCapture))]
public class ConsoleCapture;
