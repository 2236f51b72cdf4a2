using System.Globalization;
using System.Text;

using AutoGrad.Tensors;

namespace AutoGrad.Autodiff;

/// <summary>
/// Compares the tape's gradients with central finite differences in float64, as DeZero's <c>gradient_check</c> does.
/// </summary>
public static class GradientChecker
{
    /// <summary>DeZero's default relative tolerance.</summary>
    public const double DefaultRelativeTolerance = 1e-4;

    /// <summary>DeZero's default absolute tolerance.</summary>
    public const double DefaultAbsoluteTolerance = 1e-5;

    /// <summary>The central-difference step: truncation error ~ε², rounding error ~1e-16/ε, both far below the tolerances.</summary>
    public const double DefaultStep = 1e-6;

    /// <summary>
    /// Checks the gradient of <paramref name="function"/> at <paramref name="inputs"/>. The inputs are copied to
    /// float64; a non-scalar output is reduced with fixed random weights (a seeded vector-Jacobian product), so an
    /// error that a plain sum would cancel still shows.
    /// </summary>
    /// <param name="function">The computation, built from AutoGrad ops; it must be deterministic.</param>
    /// <param name="inputs">The point to check at; not modified.</param>
    /// <param name="relativeTolerance">An element passes when |analytic − numeric| ≤ atol + rtol·|numeric|.</param>
    /// <param name="absoluteTolerance">See <paramref name="relativeTolerance"/>.</param>
    /// <param name="step">The finite-difference step.</param>
    /// <returns>The worst errors per input and whether every element passed.</returns>
    public static GradientCheckResult Check(
        Func<Tensor[], Tensor> function,
        IReadOnlyList<Tensor> inputs,
        double relativeTolerance = DefaultRelativeTolerance,
        double absoluteTolerance = DefaultAbsoluteTolerance,
        double step = DefaultStep)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(inputs);
        var points = inputs.Select(x => (x ?? throw new ArgumentNullException(nameof(inputs))).ToType(DType.Float64)).ToArray();

        Tensor[] analytic;
        Tensor weights;
        using (var tape = new Tape())
        {
            foreach (var p in points)
            {
                tape.Watch(p);
            }

            var output = function(points);
            weights = output.Length == 1
                ? Tensor.Ones(output.Shape.Dims, DType.Float64)
                : Tensor.RandomUniform(output.Shape.Dims, seed: 12345, low: 0.5, high: 1.5, DType.Float64);
            analytic = tape.Gradient(output, points, weights.ToType(output.DType));
            analytic = analytic.Select(g => g.ToType(DType.Float64)).ToArray();
        }

        var reports = new List<InputGradientError>();
        using var evaluation = new Tape();
        for (var i = 0; i < points.Length; i++)
        {
            var values = points[i].AsSpan<double>();
            var expected = analytic[i].AsReadOnlySpan<double>();
            double worstAbsolute = 0, worstRelative = 0;
            var passed = true;
            for (var k = 0; k < values.Length; k++)
            {
                var original = values[k];
                values[k] = original + step;
                var plus = Objective(function, points, weights, evaluation);
                values[k] = original - step;
                var minus = Objective(function, points, weights, evaluation);
                values[k] = original;

                var numeric = (plus - minus) / (2 * step);
                var error = Math.Abs(expected[k] - numeric);
                worstAbsolute = Math.Max(worstAbsolute, error);
                worstRelative = Math.Max(worstRelative, RelativeError(expected[k], numeric, absoluteTolerance));
                passed &= error <= absoluteTolerance + (relativeTolerance * Math.Abs(numeric)) && double.IsFinite(expected[k]);
            }

            reports.Add(new InputGradientError(i, points[i].Shape, worstAbsolute, worstRelative, passed));
        }

        return new GradientCheckResult(reports);
    }

    /// <summary>
    /// |analytic − numeric| relative to the larger of the two, floored at <paramref name="absoluteTolerance"/>: two
    /// gradients of 1e-17 that differ by 1e-17 are equal for every purpose, where dividing by |numeric| alone would
    /// report a relative error of 1e306.
    /// </summary>
    /// <param name="analytic">The gradient element under test.</param>
    /// <param name="numeric">The reference value.</param>
    /// <param name="absoluteTolerance">The size below which values count as zero.</param>
    /// <returns>The relative error; 0 when the two are equal, NaN when either is NaN.</returns>
    public static double RelativeError(double analytic, double numeric, double absoluteTolerance)
    {
        var error = Math.Abs(analytic - numeric);
        var scale = Math.Max(Math.Max(Math.Abs(analytic), Math.Abs(numeric)), absoluteTolerance);
        return error == 0 ? 0 : error / Math.Max(scale, double.Epsilon);
    }

    /// <summary>Σ weights ⊙ f(points), evaluated on a scratch tape that records nothing and is reset each time.</summary>
    private static double Objective(Func<Tensor[], Tensor> function, Tensor[] points, Tensor weights, Tape scratch)
    {
        scratch.Reset();
        var output = function(points).ToDoubleArray();
        var w = weights.AsReadOnlySpan<double>();
        var sum = 0.0;
        for (var i = 0; i < output.Length; i++)
        {
            sum += w[i] * output[i];
        }

        return sum;
    }
}

/// <summary>The worst gradient errors of one input of a <see cref="GradientChecker"/> run.</summary>
/// <param name="Input">The input's position in the argument list.</param>
/// <param name="Shape">The input's shape.</param>
/// <param name="MaxAbsoluteError">max |analytic − numeric| over the input's elements.</param>
/// <param name="MaxRelativeError">max |analytic − numeric| / max(|analytic|, |numeric|, absolute tolerance).</param>
/// <param name="Passed">Every element was within tolerance.</param>
public sealed record InputGradientError(int Input, Shape Shape, double MaxAbsoluteError, double MaxRelativeError, bool Passed);

/// <summary>The outcome of <see cref="GradientChecker.Check"/>: one report per input.</summary>
/// <param name="Inputs">The per-input reports.</param>
public sealed record GradientCheckResult(IReadOnlyList<InputGradientError> Inputs)
{
    /// <summary>True when every input passed.</summary>
    public bool Passed => Inputs.All(i => i.Passed);

    /// <summary>One line per input with its worst errors.</summary>
    /// <returns>The report.</returns>
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var i in Inputs)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"input {i.Input} {i.Shape}: max abs {i.MaxAbsoluteError:E3}, max rel {i.MaxRelativeError:E3}, {(i.Passed ? "pass" : "FAIL")}");
        }

        return text.ToString();
    }
}
