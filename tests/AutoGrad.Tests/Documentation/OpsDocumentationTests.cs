using System.Reflection;
using System.Text.RegularExpressions;

namespace AutoGrad.Tests.Documentation;

/// <summary>
/// The op tables of README.md and docs/ops.md are generated from the op descriptors (<see cref="OpCatalog"/>): a test
/// fails when a committed table differs, and running the tests with AUTOGRAD_ACCEPT_DOCS=1 rewrites them, as
/// AUTOGRAD_ACCEPT_API=1 does for the API listing. The descriptors cover exactly the public ops, each in its family's
/// file. (The gradients they state are checked numerically by `autograd check`, which tests/AutoGrad.Cli.Tests runs.)
/// </summary>
public class OpsDocumentationTests
{
    private const string OpTableHeader = "| Op | Forward | Gradient |";
    private const string FamilyTableHeader = "| File | Ops |";

    public static TheoryData<string, string> Tables => new()
    {
        { "README.md", OpTableHeader },
        { "docs/ops.md", OpTableHeader },
        { "docs/ops.md", FamilyTableHeader },
    };

    [Theory]
    [MemberData(nameof(Tables))]
    public void The_committed_table_is_the_one_the_descriptors_generate(string file, string header)
    {
        var generated = header == OpTableHeader ? OpCatalog.MarkdownTable() : OpCatalog.FamilyTable();
        var text = RepositoryFiles.Read(file).ReplaceLineEndings("\n");
        var (start, end) = TableSpan(text, header);
        if (Environment.GetEnvironmentVariable("AUTOGRAD_ACCEPT_DOCS") == "1")
        {
            File.WriteAllText(Path.Combine(RepositoryFiles.Root, file), text[..start] + generated + text[end..]);
            return;
        }

        Assert.True(generated == text[start..end], $"{file}'s table differs from the descriptors' (rerun with AUTOGRAD_ACCEPT_DOCS=1 to rewrite it).\nGenerated:\n{generated}");
    }

    [Fact]
    public void The_descriptors_cover_exactly_the_public_ops()
    {
        var described = OpCatalog.All.SelectMany(row => row.Names).ToHashSet();
        var actual = typeof(Ops).GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => !m.IsSpecialName).Select(m => m.Name).ToHashSet();

        Assert.Equal([], actual.Except(described).Order().ToArray());  // public ops no descriptor names
        Assert.Equal([], described.Except(actual).Order().ToArray());  // descriptors of ops that do not exist
    }

    [Fact]
    public void Each_op_lives_in_its_family_file_and_has_samples()
    {
        foreach (var row in OpCatalog.All)
        {
            var source = RepositoryFiles.Read(Path.Combine("src/AutoGrad/Operations", row.Family + ".cs"));
            foreach (var name in row.Names)
            {
                Assert.True(
                    Regex.IsMatch(source, $@"public static (Tensor|IntTensor|BoolTensor)(\[\])? {name}\("),
                    $"{name} is not declared in {row.Family}.cs");
            }

            // A differentiable op is checked by its gradient samples; a query (not differentiable) by its worked values.
            Assert.True(row.Samples.Count > 0 || row.Values.Count > 0, $"{row.Call} has neither gradient samples nor worked values");
            Assert.True(row.Samples.Count == 0 || row.Values.Count == 0, $"{row.Call}: a query has no gradient to sample");
            Assert.Equal(row.Fused, row.Compositions.Count > 0);
        }
    }

    /// <summary>Where a table starts (its header row) and ends (after its last row).</summary>
    private static (int Start, int End) TableSpan(string text, string header)
    {
        var start = text.IndexOf(header + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no table headed '{header}'");
        var end = start;
        while (end < text.Length && text[end] == '|')
        {
            end = text.IndexOf('\n', end) + 1;
        }

        return (start, end);
    }
}
