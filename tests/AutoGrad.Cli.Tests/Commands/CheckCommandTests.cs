using System.Text.Json;
using System.Text.RegularExpressions;

using AutoGrad.Cli.Commands;

namespace AutoGrad.Cli.Tests.Commands;

public partial class CheckCommandTests
{
    [Fact]
    public void Every_check_passes_and_every_op_of_the_readme_table_is_covered()
    {
        var (code, output, error) = CliRunner.Run("check", "--json");
        Assert.True(code == 0, error + output);
        using var json = JsonDocument.Parse(output);
        var rows = json.RootElement.GetProperty("rows").EnumerateArray().ToList();
        var summary = json.RootElement.GetProperty("summary");
        Assert.Equal(rows.Count, summary.GetProperty("checks").GetInt32());
        Assert.Equal(0, summary.GetProperty("failed").GetInt32());
        Assert.All(rows, r =>
        {
            Assert.True(r.GetProperty("passed").GetBoolean());
            var error = r.GetProperty("maxAbsError");
            if (error.ValueKind == JsonValueKind.Null)
            {
                // A query's worked values (comparisons, ArgMax, CausalMask): exact or failed, no error to report.
                Assert.Contains(r.GetProperty("op").GetString(), AutoGrad.Operations.OpCatalog.All.Where(row => row.Values.Count > 0).SelectMany(row => row.Names));
            }
            else
            {
                Assert.InRange(error.GetDouble(), 0, 1e-5);
            }

            Assert.False(string.IsNullOrEmpty(r.GetProperty("shapes").GetString()));
        });

        var checkedOps = rows.Select(r => r.GetProperty("op").GetString()).ToHashSet();
        var readmeOps = ReadmeOps();
        Assert.True(readmeOps.Count >= 30, $"only {readmeOps.Count} ops found in the README table");
        Assert.Equal([], readmeOps.Where(op => !checkedOps.Contains(op)).ToArray()); // lists any op the catalogue misses
        // Each composition is checked in both modes; each gradient sample three ways (reverse, forward, dot).
        foreach (var mode in new[] { "reverse", "forward" })
        {
            Assert.Equal(
                OpCatalog.All.Sum(row => row.Compositions.Count),
                rows.Count(r => r.GetProperty("mode").GetString() == mode && r.GetProperty("shapes").GetString()!.EndsWith("vs composition", StringComparison.Ordinal)));
        }

        var samples = OpCatalog.All.Sum(row => row.Samples.Count);
        Assert.Equal(samples, rows.Count(r => r.GetProperty("mode").GetString() == "dot"));
        Assert.Equal(samples + OpCatalog.All.Sum(row => row.Compositions.Count), rows.Count(r => r.GetProperty("mode").GetString() == "forward"));
        Assert.All(rows.Where(r => r.GetProperty("mode").GetString() == "dot"), r => Assert.InRange(r.GetProperty("maxRelError").GetDouble(), 0, 1e-12));
    }

    [Fact]
    public void Mode_selects_reverse_or_forward_checks_and_an_unknown_mode_is_a_usage_error()
    {
        static string[] Modes(string mode)
        {
            var (code, output, error) = CliRunner.Run("check", "--op", "Conv2d", "--mode", mode, "--json");
            Assert.True(code == 0, error + output);
            return [.. JsonDocument.Parse(output).RootElement.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("mode").GetString()!).Distinct().Order()];
        }

        Assert.Equal(["reverse"], Modes("reverse"));
        Assert.Equal(["dot", "forward"], Modes("forward"));
        Assert.Equal(["dot", "forward", "reverse"], Modes("all"));

        var bad = CliRunner.Run("check", "--mode", "sideways");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("sideways", bad.Error);
    }

    [Fact]
    public void A_wrong_forward_rule_fails_its_forward_and_dot_rows()
    {
        // A custom op whose forward rule is off by a factor of two: J·v is wrong, and so is ⟨J·v, u⟩ against reverse mode.
        var rows = CheckCommand.RunForward(new OpSample("Doubled", "(3,)", v => new WrongJvp().Apply(v[0]), () => [Tensor.FromArray([0.1, 0.2, 0.3])])).ToList();
        Assert.Equal(["forward", "dot"], rows.Select(r => r.Mode));
        Assert.All(rows, r => Assert.False(r.Passed));
    }

    private sealed class WrongJvp() : AutoGrad.Autodiff.CustomOp("Doubled")
    {
        public override Tensor Forward(IReadOnlyList<Tensor> inputs) => Ops.Exp(inputs[0]);

        public override IReadOnlyList<Tensor?> Backward(IReadOnlyList<Tensor> inputs, Tensor output, Tensor outputGradient) => [outputGradient * output];

        public override Tensor Jvp(IReadOnlyList<Tensor> inputs, Tensor output, IReadOnlyList<Tensor?> tangents) => tangents[0]! * output * 2;
    }

    [Fact]
    public void Op_narrows_the_run_and_an_unknown_op_is_a_usage_error()
    {
        var (code, output, _) = CliRunner.Run("check", "--op", "softmaxwithloss", "--json");
        Assert.Equal(0, code);
        var ops = JsonDocument.Parse(output).RootElement.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("op").GetString()).Distinct();
        Assert.Equal(["SoftmaxWithLoss"], ops);

        var bad = CliRunner.Run("check", "--op", "Frobnicate");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("Frobnicate", bad.Error);
    }

    [Fact]
    public void A_wrong_gradient_or_a_wrong_composition_fails_its_row()
    {
        // The composition below is not the same function, so the gradients differ and the row must fail.
        var wrongComposition = CheckCommand.Run(new OpSample("Bogus", "(3,)", v => Ops.Sum(Ops.Exp(v[0])), () => [Tensor.FromArray([0.1, 0.2, 0.3])], v => Ops.Sum(v[0])));
        Assert.False(wrongComposition.Passed);
        Assert.InRange(wrongComposition.MaxAbsError!.Value, 0.1, 0.5);

        // A tie in Max routes the whole gradient to one position while finite differences split it.
        var tie = CheckCommand.Run(new OpSample("Max", "(2,)", v => Ops.Max(v[0]), () => [Tensor.FromArray([1.0, 1.0])]));
        Assert.False(tie.Passed);
    }

    /// <summary>The op names in the README's op table: the identifiers in `Name(…)` code spans of its first column.</summary>
    private static HashSet<string> ReadmeOps()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(dir!.FullName, "AutoGrad.sln")))
        {
            dir = dir.Parent;
        }

        var readme = File.ReadAllLines(Path.Combine(dir.FullName, "README.md"));
        var start = Array.FindIndex(readme, l => l.StartsWith("| Op | Forward | Gradient |", StringComparison.Ordinal));
        var ops = new HashSet<string>();
        for (var i = start + 2; i < readme.Length && readme[i].StartsWith('|'); i++)
        {
            var firstColumn = readme[i].Split('|')[1];
            foreach (Match m in OpName().Matches(firstColumn))
            {
                ops.Add(m.Groups[1].Value);
            }
        }

        return ops;
    }

    [GeneratedRegex(@"`(?:\*\*)?([A-Z][A-Za-z0-9]+)\(")]
    private static partial Regex OpName();
}
