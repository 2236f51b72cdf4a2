using System.CommandLine;
using System.Globalization;
using System.Text.Json;

using Spectre.Console;

namespace AutoGrad.Cli.Commands;

/// <summary>
/// <c>autograd check</c>: verifies every op's derivatives in float64 three ways: reverse mode (the gradient) and forward
/// mode (the Jacobian-vector product) each against central differences, and the two modes against each other by the
/// dot-product test ⟨J·v, u⟩ = ⟨v, Jᵀ·u⟩; every fused op against its composition of primitives in both modes; and every
/// query (comparisons, ArgMax) against values worked out by hand. Reports the worst errors; exits 1 when any row fails.
/// </summary>
internal static class CheckCommand
{
    /// <summary>Fused and composed gradients must agree this closely (relative to the composed value) in float64.</summary>
    private const double FusedTolerance = 1e-12;

    public static Command Create(IAnsiConsole console, TextWriter stdout)
    {
        var op = new Option<string?>("--op") { Description = "Check only the op with this name (for example SoftmaxWithLoss)." };
        var json = new Option<bool>("--json") { Description = "Print the rows and a summary as one JSON object." };
        var mode = new Option<string>("--mode")
        {
            Description = "reverse (gradients), forward (Jacobian-vector products and the dot-product test against reverse mode), or all.",
            DefaultValueFactory = _ => "all",
        };
        var command = new Command("check", "Verify every op's derivatives (reverse and forward mode against finite differences, and against each other) and every fused op against its composition.") { op, json, mode };
        command.SetAction(result =>
        {
            var name = result.GetValue(op);
            var modes = result.GetValue(mode)?.ToLowerInvariant() switch
            {
                "all" => (Reverse: true, Forward: true),
                "reverse" => (Reverse: true, Forward: false),
                "forward" => (Reverse: false, Forward: true),
                var other => throw new OptionException($"--mode: '{other}' is not a mode; use reverse, forward or all."),
            };
            bool Selected(string op) => name is null || op.Equals(name, StringComparison.OrdinalIgnoreCase);
            var cases = All.Where(c => Selected(c.Op)).ToList();
            var values = Values.Where(v => Selected(v.Op)).ToList();
            if (cases.Count + values.Count == 0)
            {
                var known = All.Select(c => c.Op).Concat(Values.Select(v => v.Op)).Distinct();
                throw new OptionException($"--op: no op named '{name}'; known ops: {string.Join(", ", known)}.");
            }

            var rows = new List<CheckRow>();
            if (modes.Reverse)
            {
                rows.AddRange(cases.Select(Run));
            }

            if (modes.Forward)
            {
                rows.AddRange(cases.SelectMany(RunForward));
            }

            rows.AddRange(values.Select(Run));
            var failed = rows.Count(r => !r.Passed);
            if (result.GetValue(json))
            {
                stdout.WriteLine(JsonSerializer.Serialize(new { rows, summary = new { checks = rows.Count, passed = rows.Count - failed, failed } }));
            }
            else
            {
                var table = new Table().AddColumns("op", "mode", "shapes", "max abs error", "max rel error", "");
                foreach (var r in rows)
                {
                    table.AddRow(
                        r.Op,
                        r.Mode,
                        Markup.Escape(r.Shapes),
                        r.MaxAbsError?.ToString("0.00E+00", CultureInfo.InvariantCulture) ?? "exact",
                        r.MaxRelError?.ToString("0.00E+00", CultureInfo.InvariantCulture) ?? "exact",
                        r.Passed ? "[green]pass[/]" : "[red]FAIL[/]");
                }

                console.Write(table);
                console.WriteLine($"{rows.Count - failed} of {rows.Count} checks passed.");
            }

            return failed == 0 ? 0 : App.RunError;
        });
        return command;
    }

    internal static CheckRow Run(OpSample c)
    {
        if (c.Composed is null)
        {
            var result = GradientChecker.Check(c.Function, c.Inputs());
            return new CheckRow(c.Op, c.Shapes, result.Inputs.Max(i => i.MaxAbsoluteError), result.Inputs.Max(i => i.MaxRelativeError), result.Passed, "reverse");
        }

        var fused = Gradients(c.Function, c.Inputs()).SelectMany(g => g).ToArray();
        var composed = Gradients(c.Composed, c.Inputs()).SelectMany(g => g).ToArray();
        return Compare(c, fused, composed, "reverse");
    }

    /// <summary>
    /// Forward mode on one sample: J·v against a central difference and ⟨J·v, u⟩ against reverse mode's ⟨v, Jᵀ·u⟩
    /// (two rows, modes "forward" and "dot"); for a composition, the fused op's tangent against the composition's.
    /// </summary>
    internal static IEnumerable<CheckRow> RunForward(OpSample c)
    {
        if (c.Composed is null)
        {
            var result = ForwardChecker.Check(c.Function, c.Inputs());
            yield return new CheckRow(c.Op, c.Shapes, result.MaxAbsoluteError, result.MaxRelativeError, result.Passed, "forward");
            yield return new CheckRow(c.Op, c.Shapes, Math.Abs(result.ForwardDot - result.ReverseDot), result.DotProductRelativeError, result.DotProductPassed, "dot");
            yield break;
        }

        var inputs = c.Inputs();
        var directions = inputs.Select((x, i) => Tensor.RandomNormal(x.Shape.Dims, 300 + i, dtype: DType.Float64)).ToArray();
        var fused = ForwardChecker.Jvp(c.Function, inputs, directions, out _);
        var composed = ForwardChecker.Jvp(c.Composed, inputs, directions, out _);
        yield return Compare(c, fused, composed, "forward");
    }

    private static CheckRow Compare(OpSample c, double[] fused, double[] composed, string mode)
    {
        double worstAbs = 0, worstRel = 0;
        var passed = true;
        for (var k = 0; k < fused.Length; k++)
        {
            var error = Math.Abs(fused[k] - composed[k]);
            worstAbs = Math.Max(worstAbs, error);
            worstRel = Math.Max(worstRel, GradientChecker.RelativeError(fused[k], composed[k], 1e-15));
            passed &= error <= (FusedTolerance * Math.Abs(composed[k])) + 1e-15;
        }

        return new CheckRow(c.Op, c.Shapes, worstAbs, worstRel, passed, mode);
    }

    /// <summary>A query's result on a hand-worked input: it passes when it prints exactly as expected.</summary>
    internal static CheckRow Run(OpValueCheck v) => new(v.Op, v.Case, null, null, v.Actual() == v.Expected, "value");

    /// <summary>Every query's worked values (comparisons, ArgMax, …), which have no gradient to check.</summary>
    private static IEnumerable<OpValueCheck> Values => OpCatalog.All.SelectMany(row => row.Values);

    /// <summary>Every op's checks from its descriptor (<see cref="OpCatalog"/>): finite differences, then compositions.</summary>
    private static IEnumerable<OpSample> All => OpCatalog.All.SelectMany(row => row.Samples).Concat(OpCatalog.All.SelectMany(row => row.Compositions));

    private static double[][] Gradients(Func<Tensor[], Tensor> f, Tensor[] inputs)
    {
        using var tape = new Tape();
        foreach (var x in inputs)
        {
            tape.Watch(x);
        }

        // A non-scalar output is reduced with the same fixed weights on both sides (a vector-Jacobian product).
        var y = f(inputs);
        var upstream = y.Length == 1 ? null : Tensor.RandomUniform(y.Shape.Dims, seed: 7, low: 0.5, high: 1.5, dtype: y.DType);
        return [.. tape.Gradient(y, inputs, upstream).Select(g => g.ToDoubleArray())];
    }

    /// <summary>One row of the report (and of <c>--json</c>).</summary>
    internal sealed record CheckRow(
        [property: System.Text.Json.Serialization.JsonPropertyName("op")] string Op,
        [property: System.Text.Json.Serialization.JsonPropertyName("shapes")] string Shapes,
        [property: System.Text.Json.Serialization.JsonPropertyName("maxAbsError")] double? MaxAbsError,
        [property: System.Text.Json.Serialization.JsonPropertyName("maxRelError")] double? MaxRelError,
        [property: System.Text.Json.Serialization.JsonPropertyName("passed")] bool Passed,
        [property: System.Text.Json.Serialization.JsonPropertyName("mode")] string Mode);
}
