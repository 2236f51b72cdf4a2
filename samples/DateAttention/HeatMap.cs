using System.Globalization;
using System.Text;

namespace DateAttention;

/// <summary>An SVG heat map of attention weights: one row per answer character, one column per question character.</summary>
public static class HeatMap
{
    private const int Cell = 18;
    private const int Margin = 24;

    /// <summary>
    /// The picture. <paramref name="weights"/> holds one row of <paramref name="columns"/> weights per answer
    /// character, over the question as the encoder read it (reversed and padded), so column c of the picture is
    /// weight column <paramref name="columns"/> − 1 − c. Each cell is grey from white (0) to black (1) and carries its
    /// weight in a data-weight attribute.
    /// </summary>
    /// <param name="question">The question, unpadded, in reading order.</param>
    /// <param name="answer">The answer.</param>
    /// <param name="weights">The weights, answer length × <paramref name="columns"/>.</param>
    /// <param name="columns">The padded question length.</param>
    /// <returns>The SVG text.</returns>
    public static string Svg(string question, string answer, double[] weights, int columns)
    {
        int width = (2 * Margin) + (question.Length * Cell), height = (2 * Margin) + (answer.Length * Cell);
        var svg = new StringBuilder().Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"monospace\" font-size=\"12\">\n");
        for (var c = 0; c < question.Length; c++)
        {
            svg.Append(CultureInfo.InvariantCulture, $"  <text x=\"{Margin + (c * Cell) + 5}\" y=\"{Margin - 6}\">{Escape(question[c])}</text>\n");
        }

        for (var r = 0; r < answer.Length; r++)
        {
            svg.Append(CultureInfo.InvariantCulture, $"  <text x=\"6\" y=\"{Margin + (r * Cell) + 13}\">{Escape(answer[r])}</text>\n");
            for (var c = 0; c < question.Length; c++)
            {
                var weight = weights[(r * columns) + (columns - 1 - c)];
                var grey = (int)Math.Round(255 * (1 - weight));
                svg.Append(CultureInfo.InvariantCulture, $"  <rect x=\"{Margin + (c * Cell)}\" y=\"{Margin + (r * Cell)}\" width=\"{Cell}\" height=\"{Cell}\" fill=\"rgb({grey},{grey},{grey})\" data-weight=\"{weight:R}\"/>\n");
            }
        }

        return svg.Append("</svg>\n").ToString();
    }

    private static string Escape(char c) => c switch
    {
        '<' => "&lt;",
        '>' => "&gt;",
        '&' => "&amp;",
        ' ' => "\u00a0",
        _ => c.ToString(),
    };
}
