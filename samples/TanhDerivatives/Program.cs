// tanh and its first four derivatives, each obtained by differentiating the previous one on the tape
// (createGraph: true), drawn as an SVG picture (DeZero's step 35). Pass a file name to choose where it goes.
using System.Globalization;
using System.Text;


var path = args.Length > 0 ? args[0] : "tanh-derivatives.svg";
const int points = 201;
var x = Tensor.FromArray([.. Enumerable.Range(0, points).Select(i => -4 + (8.0 * i / (points - 1)))]);

using var tape = new Tape();
tape.Watch(x);
var ones = Tensor.Ones([points], DType.Float64);
var curves = new List<double[]>();
var y = Ops.Tanh(x);
curves.Add(y.ToDoubleArray());
for (var order = 1; order <= 4; order++)
{
    // tanh acts elementwise, so the vector-Jacobian product with ones is the derivative at every point.
    y = tape.Gradient(y, [x], ones, createGraph: true)[0];
    curves.Add(y.ToDoubleArray());
}

var middle = points / 2; // x = 0
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"at x = 0: tanh {curves[0][middle]:F6}, d1 {curves[1][middle]:F6}, d2 {curves[2][middle]:F6}, d3 {curves[3][middle]:F6}, d4 {curves[4][middle]:F6}"));
File.WriteAllText(path, Plot(x.ToDoubleArray(), curves));
Console.WriteLine($"wrote {path}");

static string Plot(double[] x, List<double[]> curves)
{
    string[] colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"];
    string[] names = ["tanh", "1st", "2nd", "3rd", "4th"];
    const double width = 640, height = 400, margin = 40, yRange = 5;
    double Px(double v) => margin + ((v + 4) / 8 * (width - (2 * margin)));
    double Py(double v) => (height / 2) - (Math.Clamp(v, -yRange, yRange) / yRange * ((height / 2) - margin));
    var svg = new StringBuilder();
    svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
    svg.Append(CultureInfo.InvariantCulture, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n");
    svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{margin}\" x2=\"{width - margin}\" y1=\"{Py(0)}\" y2=\"{Py(0)}\" stroke=\"#999\"/>\n");
    svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Px(0)}\" x2=\"{Px(0)}\" y1=\"{margin}\" y2=\"{height - margin}\" stroke=\"#999\"/>\n");
    for (var c = 0; c < curves.Count; c++)
    {
        var line = string.Join(' ', x.Select((v, i) => string.Create(CultureInfo.InvariantCulture, $"{Px(v):F1},{Py(curves[c][i]):F1}")));
        svg.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{colors[c]}\" stroke-width=\"1.5\" points=\"{line}\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{width - margin - 40}\" y=\"{margin + (16 * c)}\" fill=\"{colors[c]}\">{names[c]}</text>\n");
    }

    return svg.Append("</svg>\n").ToString();
}
