using System.Numerics;

using static AutoGrad.OpSamples;

namespace AutoGrad;

/// <summary>Activation functions beyond the book's Relu and Sigmoid: Gelu so far.</summary>
public static partial class Ops
{
    private static readonly Op s_gelu = new Op<GeluRule>("Gelu");

    private static readonly double s_sqrt2 = Math.Sqrt(2);
    private static readonly double s_sqrt2OverPi = Math.Sqrt(2 / Math.PI);
    private static readonly double s_inverseSqrt2Pi = 1 / Math.Sqrt(2 * Math.PI);

    /// <summary>
    /// The Gaussian error linear unit, x·Φ(x) = ½x(1 + erf(x/√2)), as PyTorch's <c>gelu</c>; with
    /// <paramref name="tanhApproximation"/>, ½x(1 + tanh(√(2/π)(x + 0.044715x³))), PyTorch's <c>approximate='tanh'</c>.
    /// ∂/∂x = g ⊙ (Φ(x) + x·φ(x)), φ the standard normal density (or the derivative of the tanh form).
    /// </summary>
    /// <param name="x">The tensor.</param>
    /// <param name="tanhApproximation">Use the tanh approximation (GPT-2, BERT) instead of the exact erf form.</param>
    /// <returns>The activation, x's shape.</returns>
    public static Tensor Gelu(Tensor x, bool tanhApproximation = false)
    {
        Check.NotNull(x, "Gelu", nameof(x));
        var y = Tensor.Uninitialized(x.DType, x.Shape);
        if (x.DType == DType.Float32)
        {
            GeluForward<float>(x.Raw<float>(), y.Raw<float>(), tanhApproximation);
        }
        else
        {
            GeluForward<double>(x.Raw<double>(), y.Raw<double>(), tanhApproximation);
        }

        Tape.Record(s_gelu, y, x, null, null, new NodeArgs { Scalar = tanhApproximation ? 1 : 0 });
        return y;
    }

    // Computed in float64 for either element type: the erf series and the cube are where float32 would lose digits.
    private static void GeluForward<T>(ReadOnlySpan<T> x, Span<T> y, bool tanhApproximation)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (var i = 0; i < x.Length; i++)
        {
            var v = double.CreateTruncating(x[i]);
            y[i] = T.CreateTruncating(tanhApproximation
                ? 0.5 * v * (1 + Math.Tanh(s_sqrt2OverPi * (v + (0.044715 * v * v * v))))
                : 0.5 * v * (1 + ErfOf(v / s_sqrt2)));
        }
    }

    /// <summary>dGelu/dx at v: Φ(v) + v·φ(v), or for the tanh form ½(1 + t) + ½v(1 − t²)·√(2/π)(1 + 3·0.044715v²).</summary>
    private static double GeluDerivative(double v, bool tanhApproximation)
    {
        if (tanhApproximation)
        {
            var t = Math.Tanh(s_sqrt2OverPi * (v + (0.044715 * v * v * v)));
            return (0.5 * (1 + t)) + (0.5 * v * (1 - (t * t)) * s_sqrt2OverPi * (1 + (3 * 0.044715 * v * v)));
        }

        return (0.5 * (1 + ErfOf(v / s_sqrt2))) + (v * s_inverseSqrt2Pi * Math.Exp(-0.5 * v * v));
    }

    private readonly struct GeluRule : IBackwardRule
    {
        public static InputGradients Differentiate(in Node node, Tensor upstream)
        {
            var x = node.A!;
            if (node.Args.Scalar != 0)
            {
                var inner = s_sqrt2OverPi * (x + (0.044715 * x * x * x));
                var t = Tanh(inner);
                return new(upstream * ((0.5 * (1 + t)) + (0.5 * x * (1 - (t * t)) * s_sqrt2OverPi * (1 + (3 * 0.044715 * x * x)))));
            }

            return new(upstream * ((0.5 * (1 + Erf(x / s_sqrt2))) + (x * s_inverseSqrt2Pi * Exp(-0.5 * x * x))));
        }

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var x = node.A!.Raw<T>();
            var g = tape.Upstream<T>(index);
            var tanhApproximation = node.Args.Scalar != 0;
            var target = tape.BeginGradient<T>(node.InA);
            for (var i = 0; i < x.Length; i++)
            {
                target.Span[i] = g[i] * T.CreateTruncating(GeluDerivative(double.CreateTruncating(x[i]), tanhApproximation));
            }

            tape.Commit(target);
        }
    }

    /// <summary>The op table's rows for this file's ops, with their gradient checks (see <see cref="OpCatalog"/>).</summary>
    [OpFamily(25)]
    private static IEnumerable<OpInfo> ActivationsRows()
    {
        int[][] shapes = [[], [5], [2, 3, 4]];
        yield return new OpInfo
        {
            Family = "Activations",
            Call = "`Gelu(x, tanhApproximation)`",
            Forward = "½x(1 + erf(x/√2)); tanh form ½x(1 + tanh(√(2/π)(x + 0.044715x³)))",
            Gradient = "g ⊙ (Φ(x) + x·φ(x)), φ the normal density; the tanh form's own derivative",
            BadInputs = [Bad<ArgumentNullException>("gelu null", () => Gelu(null!), "Gelu", "'x'")],
            CannotGrowBecause = "elementwise",
            Samples =
            [
                .. shapes.Select(s => Gradient("Gelu", v => Gelu(v[0]), N(58, s))),
                .. shapes.Select(s => Gradient("Gelu", v => Gelu(v[0], tanhApproximation: true), N(59, s))),
                Gradient("Gelu", v => Gelu(v[0]), U(60, -8, 8, 50)),
            ],
        };
    }
}
