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
    [Trait("Category", "Slow")] // about 50 s: twenty epochs of 45,000 problems
    public void Seq2SeqAddition_answers_95_percent_of_unseen_sums_exactly()
    {
        var result = System.Text.Json.JsonDocument.Parse(SampleRunner.Run("Seq2SeqAddition", "--json").Trim()).RootElement;
        Assert.Equal(20, result.GetProperty("epochs").GetInt32());
        Assert.True(result.GetProperty("testAccuracy").GetDouble() >= 0.95, result.ToString());
    }

    [Fact]
    [Trait("Category", "Slow")] // about 50 s: six epochs of 45,000 dates
    public void DateAttention_rewrites_99_percent_of_unseen_dates_and_maps_its_attention()
    {
        var path = Path.Combine(Path.GetTempPath(), $"attention-{Guid.NewGuid():N}.svg");
        try
        {
            var result = System.Text.Json.JsonDocument.Parse(SampleRunner.Run("DateAttention", "--json", path).Trim()).RootElement;
            Assert.True(result.GetProperty("testAccuracy").GetDouble() >= 0.99, result.ToString());

            // One row of cells per answer character, one column per question character; the question's labels come
            // first. The last two digits of the year are in every written form, so attention must find them there.
            var svg = System.Xml.Linq.XDocument.Load(path);
            var labels = svg.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value).ToList();
            var cells = svg.Descendants().Where(e => e.Name.LocalName == "rect").ToList();
            const int answerLength = 10;
            var questionLength = cells.Count / answerLength;
            Assert.Equal(questionLength * answerLength, cells.Count);
            var question = labels.Take(questionLength).ToList();
            var answer = labels.Skip(questionLength).ToList();
            Assert.Matches(@"^\d{4}-\d{2}-\d{2}$", string.Concat(answer));
            var weights = cells.Select(c => double.Parse(c.Attribute("data-weight")!.Value, CultureInfo.InvariantCulture)).ToArray();
            Assert.All(weights, w => Assert.InRange(w, 0, 1));
            foreach (var row in new[] { 2, 3 })
            {
                var strongest = Enumerable.Range(0, questionLength).MaxBy(c => weights[(row * questionLength) + c]);
                Assert.Equal(answer[row], question[strongest]);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    [Trait("Category", "Slow")] // about 50 s: three epochs of 57,488 words
    public void CharTransformer_beats_the_bigram_model_by_15_percent_and_samples_ten_words()
    {
        var result = System.Text.Json.JsonDocument.Parse(SampleRunner.Run("CharTransformer", "--json").Trim()).RootElement;
        double loss = result.GetProperty("testLoss").GetDouble(), bigram = result.GetProperty("bigramTestLoss").GetDouble();
        Assert.InRange(bigram, 2.3, 2.6); // letters after letters in English words: about 2.47 nats
        Assert.True(loss <= 0.85 * bigram, result.ToString());
        var samples = result.GetProperty("samples").EnumerateArray().Select(s => s.GetString()!).ToList();
        Assert.Equal(10, samples.Count);
        Assert.All(samples, s => Assert.Matches("^[a-z]*$", s));
        Assert.True(samples.Count(s => s.Length >= 3) >= 8, string.Join(", ", samples));
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
