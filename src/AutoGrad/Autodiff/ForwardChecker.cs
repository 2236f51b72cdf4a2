using AutoGrad.Tensors;

namespace AutoGrad.Autodiff;

/// <summary>
/// Checks forward mode (<see cref="DualLevel"/>) the way <see cref="GradientChecker"/> checks reverse mode: the
/// Jacobian-vector product along a seeded random direction against a central difference along it, and the two modes
/// against each other by the dot-product test ⟨J·v, u⟩ = ⟨v, Jᵀ·u⟩, which holds to rounding for correct rules.
/// </summary>
public static class ForwardChecker
{
    /// <summary>The dot-product test's tolerance in float64, relative to the larger side.</summary>
    public const double DotProductTolerance = 1e-12;

    /// <summary>
    /// Checks <paramref name="function"/> at <paramref name="inputs"/> (copied to float64) along a seeded random
    /// direction: forward mode against a central difference, and against reverse mode by the dot-product test.
    /// </summary>
    /// <param name="function">The computation, built from AutoGrad ops; it must be deterministic.</param>
    /// <param name="inputs">The point to check at; not modified.</param>
    /// <param name="seed">Seeds the direction v and the output weights u.</param>
    /// <param name="relativeTolerance">An element passes when |forward − numeric| ≤ atol + rtol·|numeric|.</param>
    /// <param name="absoluteTolerance">See <paramref name="relativeTolerance"/>.</param>
    /// <param name="step">The finite-difference step.</param>
    /// <returns>The worst errors and whether both checks passed.</returns>
    public static ForwardCheckResult Check(
        Func<Tensor[], Tensor> function,
        IReadOnlyList<Tensor> inputs,
        int seed = 2024,
        double relativeTolerance = GradientChecker.DefaultRelativeTolerance,
        double absoluteTolerance = GradientChecker.DefaultAbsoluteTolerance,
        double step = GradientChecker.DefaultStep)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(inputs);
        var points = inputs.Select(x => (x ?? throw new ArgumentNullException(nameof(inputs))).ToType(DType.Float64)).ToArray();
        var directions = points.Select((p, i) => Tensor.RandomNormal(p.Shape.Dims, seed + i, dtype: DType.Float64)).ToArray();

        var forward = Jvp(function, points, directions, out var output);
        var numeric = CentralDifference(function, points, directions, step);
        double worstAbsolute = 0, worstRelative = 0;
        var passed = true;
        for (var k = 0; k < forward.Length; k++)
        {
            var error = Math.Abs(forward[k] - numeric[k]);
            worstAbsolute = Math.Max(worstAbsolute, error);
            worstRelative = Math.Max(worstRelative, GradientChecker.RelativeError(forward[k], numeric[k], absoluteTolerance));
            passed &= error <= absoluteTolerance + (relativeTolerance * Math.Abs(numeric[k])) && double.IsFinite(forward[k]);
        }

        // ⟨J·v, u⟩ from forward mode against ⟨v, Jᵀ·u⟩ from reverse mode, u seeded like v.
        var weights = Tensor.RandomUniform(output.Shape.Dims, seed: seed + 7919, low: 0.5, high: 1.5, DType.Float64);
        var u = weights.AsReadOnlySpan<double>();
        var left = 0.0;
        for (var k = 0; k < forward.Length; k++)
        {
            left += forward[k] * u[k];
        }

        var right = 0.0;
        using (var tape = new Tape())
        {
            foreach (var p in points)
            {
                tape.Watch(p);
            }

            var y = function(points);
            var gradients = tape.Gradient(y, points, weights);
            for (var i = 0; i < points.Length; i++)
            {
                var g = gradients[i].AsReadOnlySpan<double>();
                var v = directions[i].AsReadOnlySpan<double>();
                for (var k = 0; k < g.Length; k++)
                {
                    right += g[k] * v[k];
                }
            }
        }

        var dotError = GradientChecker.RelativeError(left, right, 1e-300);
        var dotPassed = double.IsFinite(left) && Math.Abs(left - right) <= DotProductTolerance * Math.Max(Math.Abs(left), Math.Abs(right)) + 1e-15;
        return new ForwardCheckResult(worstAbsolute, worstRelative, passed, left, right, dotError, dotPassed);
    }

    /// <summary>The Jacobian-vector product of <paramref name="function"/> at <paramref name="points"/> along <paramref name="directions"/>, flattened.</summary>
    /// <param name="function">The computation.</param>
    /// <param name="points">The float64 inputs.</param>
    /// <param name="directions">One tangent per input.</param>
    /// <param name="output">The function's value there.</param>
    /// <returns>J·v as float64 values.</returns>
    public static double[] Jvp(Func<Tensor[], Tensor> function, Tensor[] points, Tensor[] directions, out Tensor output)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(directions);
        using var level = new DualLevel();
        var duals = points.Select((p, i) => level.MakeDual(p, directions[i])).ToArray();
        var y = function(duals);
        output = y;
        return level.TangentOf(y)?.ToDoubleArray() ?? new double[y.Length];
    }

    private static double[] CentralDifference(Func<Tensor[], Tensor> function, Tensor[] points, Tensor[] directions, double step)
    {
        var plus = function(Shifted(points, directions, step)).ToDoubleArray();
        var minus = function(Shifted(points, directions, -step)).ToDoubleArray();
        var numeric = new double[plus.Length];
        for (var k = 0; k < plus.Length; k++)
        {
            numeric[k] = (plus[k] - minus[k]) / (2 * step);
        }

        return numeric;
    }

    private static Tensor[] Shifted(Tensor[] points, Tensor[] directions, double step) => [.. points.Select((p, i) =>
    {
        var shifted = p.Clone();
        var values = shifted.AsSpan<double>();
        var v = directions[i].AsReadOnlySpan<double>();
        for (var k = 0; k < values.Length; k++)
        {
            values[k] += step * v[k];
        }

        return shifted;
    })];
}

/// <summary>The outcome of <see cref="ForwardChecker.Check"/>.</summary>
/// <param name="MaxAbsoluteError">max |forward − numeric| over the output's elements.</param>
/// <param name="MaxRelativeError">max |forward − numeric| / max(|forward|, |numeric|, absolute tolerance).</param>
/// <param name="Passed">Every element of J·v was within tolerance of the central difference.</param>
/// <param name="ForwardDot">⟨J·v, u⟩ from forward mode.</param>
/// <param name="ReverseDot">⟨v, Jᵀ·u⟩ from reverse mode.</param>
/// <param name="DotProductRelativeError">|ForwardDot − ReverseDot| relative to the larger.</param>
/// <param name="DotProductPassed">The two agree to <see cref="ForwardChecker.DotProductTolerance"/>.</param>
public sealed record ForwardCheckResult(
    double MaxAbsoluteError,
    double MaxRelativeError,
    bool Passed,
    double ForwardDot,
    double ReverseDot,
    double DotProductRelativeError,
    bool DotProductPassed);
