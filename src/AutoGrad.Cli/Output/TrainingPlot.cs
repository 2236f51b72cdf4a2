using System.Globalization;
using System.Security;
using System.Text;

using AutoGrad.Nn.Training;

namespace AutoGrad.Cli.Output;

/// <summary>Draws the loss and accuracy curves of a training run as a self-contained SVG picture.</summary>
internal static class TrainingPlot
{
    private const int PanelWidth = 380;
    private const int Margin = 50;
    private const int Gap = 80;
    private const int Width = (2 * Margin) + (2 * PanelWidth) + Gap;
    private const int Height = 330;

    public static string Render(TrainingResult result, string title)
    {
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append(CultureInfo.InvariantCulture, $"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width / 2}\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">{SecurityElement.Escape(title)}</text>\n");

        var losses = Smooth(result.Losses, 300);
        Panel(svg, Margin, "loss (per step, smoothed)", "iteration", result.Iterations, [("loss", "#1f77b4", losses)], 0, Math.Max(1e-9, losses.Max(p => p.Y)));

        var train = result.Epochs.Select(e => ((double)e.Iteration, e.BatchAccuracy)).ToList();
        var test = result.Epochs.Where(e => e.TestAccuracy is not null).Select(e => ((double)e.Iteration, e.TestAccuracy!.Value)).ToList();
        var low = Math.Floor(Math.Min(train.Concat(test).Select(p => p.Item2).DefaultIfEmpty(0).Min(), 1) * 10) / 10;
        Panel(svg, Margin + PanelWidth + Gap, "accuracy (per epoch)", "iteration", result.Iterations, [("train batches", "#ff7f0e", train), ("test", "#2ca02c", test)], low, 1);
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static void Panel(StringBuilder svg, int left, string label, string xLabel, int xMax, (string Name, string Color, List<(double X, double Y)> Points)[] series, double yMin, double yMax)
    {
        const int top = 50, bottom = Height - 45;
        var right = left + PanelWidth;
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{left}\" y=\"{top}\" width=\"{PanelWidth}\" height=\"{bottom - top}\" fill=\"none\" stroke=\"#888\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left}\" y=\"{top - 8}\">{label}</text>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left + (PanelWidth / 2)}\" y=\"{bottom + 32}\" text-anchor=\"middle\">{xLabel}</text>\n");
        for (var t = 0; t <= 4; t++)
        {
            var y = yMin + ((yMax - yMin) * t / 4);
            var py = bottom - ((bottom - top) * t / 4.0);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" x2=\"{right}\" y1=\"{py:F1}\" y2=\"{py:F1}\" stroke=\"#eee\"/><text x=\"{left - 4}\" y=\"{py + 4:F1}\" text-anchor=\"end\">{y:G3}</text>\n");
            var px = left + (PanelWidth * t / 4.0);
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{px:F1}\" y=\"{bottom + 16}\" text-anchor=\"middle\">{xMax * t / 4}</text>\n");
        }

        var legendX = right;
        foreach (var (name, color, points) in series)
        {
            if (points.Count > 0)
            {
                var path = string.Join(' ', points.Select(p => string.Create(CultureInfo.InvariantCulture,
                    $"{left + (PanelWidth * p.X / Math.Max(1, xMax)):F1},{bottom - ((bottom - top) * (Math.Clamp(p.Y, yMin, yMax) - yMin) / Math.Max(1e-12, yMax - yMin)):F1}")));
                svg.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{path}\"/>\n");
            }

            // Legends sit above the panel, right-aligned, so they never cover a curve.
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{legendX}\" y=\"{top - 8}\" text-anchor=\"end\" fill=\"{color}\">■ {name}</text>\n");
            legendX -= 12 + (7 * (name.Length + 2));
        }
    }

    /// <summary>Averages consecutive values into at most <paramref name="points"/> points, so the curve shows the trend.</summary>
    private static List<(double X, double Y)> Smooth(IReadOnlyList<double> values, int points)
    {
        var window = Math.Max(1, values.Count / points);
        var result = new List<(double, double)>();
        for (var start = 0; start < values.Count; start += window)
        {
            var count = Math.Min(window, values.Count - start);
            var sum = 0.0;
            for (var i = start; i < start + count; i++)
            {
                sum += values[i];
            }

            result.Add((start + count, sum / count));
        }

        return result;
    }
}
