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
        Assert.Equal(OpCatalog.All.Sum(row => row.Compositions.Count), rows.Count(r => r.GetProperty("shapes").GetString()!.EndsWith("vs composition", StringComparison.Ordinal)));
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
