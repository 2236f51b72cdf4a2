using System.Reflection;
using System.Text.RegularExpressions;

namespace AutoGrad.Tests.Documentation;

/// <summary>
/// docs/ops.md cannot drift from the code: its table names exactly the public ops, the README carries the same
/// table, and each op sits in the file the "Where each family lives" table says. (The gradients the table states are
/// checked numerically by `autograd check`, which tests/AutoGrad.Cli.Tests runs over every op of the table.)
/// </summary>
public partial class OpsDocumentationTests
{
    private static readonly string s_opsDoc = RepositoryFiles.Read("docs/ops.md").ReplaceLineEndings("\n");

    [Fact]
    public void The_table_names_exactly_the_public_ops()
    {
        var documented = OpNames(Table(s_opsDoc)).ToHashSet();
        var actual = typeof(Ops).GetMethods(BindingFlags.Public | BindingFlags.Static).Select(m => m.Name).ToHashSet();

        Assert.Equal([], actual.Except(documented).Order().ToArray());  // public ops the table misses
        Assert.Equal([], documented.Except(actual).Order().ToArray());  // table rows for ops that do not exist
    }

    [Fact]
    public void The_README_carries_the_same_table()
    {
        var readme = RepositoryFiles.Read("README.md").ReplaceLineEndings("\n");
        Assert.Equal(Table(s_opsDoc), Table(readme));
    }

    [Fact]
    public void Each_op_lives_in_the_file_the_doc_names()
    {
        var rows = s_opsDoc.Split('\n').Where(l => l.StartsWith("| [`", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(rows);
        var listed = new HashSet<string>();
        foreach (var row in rows)
        {
            var cells = row.Split('|');
            var file = FileLink().Match(cells[1]).Groups[1].Value;
            var source = RepositoryFiles.Read(Path.Combine("src/AutoGrad/Ops", file));
            foreach (Match op in Backticked().Matches(cells[2]))
            {
                listed.Add(op.Groups[1].Value);
                Assert.True(source.Contains($"public static Tensor {op.Groups[1].Value}(", StringComparison.Ordinal), $"{op.Groups[1].Value} is not declared in {file}");
            }
        }

        Assert.Equal(OpNames(Table(s_opsDoc)).ToHashSet().Order(), listed.Order());
    }

    /// <summary>The op table: from its header row to the first line that is not a table row.</summary>
    private static string Table(string markdown)
    {
        var lines = markdown.Split('\n');
        var start = Array.FindIndex(lines, l => l.StartsWith("| Op | Forward | Gradient |", StringComparison.Ordinal));
        Assert.True(start >= 0, "no op table found");
        var end = Array.FindIndex(lines, start, l => !l.StartsWith('|'));
        return string.Join('\n', lines[start..end]);
    }

    /// <summary>Op names in the first column: `Name(` possibly inside bold.</summary>
    private static IEnumerable<string> OpNames(string table) => table.Split('\n').Skip(2)
        .SelectMany(row => OpCall().Matches(row.Split('|')[1]).Select(m => m.Groups[1].Value));

    [GeneratedRegex(@"`([A-Z][A-Za-z]+)\(")]
    private static partial Regex OpCall();

    [GeneratedRegex(@"`([A-Z][A-Za-z]+)`")]
    private static partial Regex Backticked();

    [GeneratedRegex(@"\[`([A-Za-z]+\.cs)`\]")]
    private static partial Regex FileLink();
}
