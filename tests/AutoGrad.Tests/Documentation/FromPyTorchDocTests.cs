using System.Text.RegularExpressions;

namespace AutoGrad.Tests.Documentation;

/// <summary>
/// docs/from-pytorch.md: every code span in the AutoGrad column of its tables compiles against the library, in one
/// host method whose parameters are the free names the page lists; each span in a block of its own.
/// </summary>
public partial class FromPyTorchDocTests
{
    private const string Page = "docs/from-pytorch.md";

    /// <summary>The AutoGrad column's code spans, with their rows, in page order.</summary>
    private static List<(string Row, string Code)> Spans()
    {
        var spans = new List<(string, string)>();
        foreach (var line in RepositoryFiles.Read(Page).ReplaceLineEndings("\n").Split('\n'))
        {
            var cells = line.Split(" | ");
            if (!line.StartsWith("| `", StringComparison.Ordinal) || cells.Length < 2)
            {
                continue;
            }

            foreach (Match code in CodeSpan().Matches(cells[1]))
            {
                spans.Add((line, code.Groups[1].Value));
            }
        }

        return spans;
    }

    [Fact]
    public void The_page_has_forty_idioms_or_more()
    {
        var rows = Spans().Select(span => span.Row).Distinct().Count();
        Assert.True(rows >= 40, $"{Page} has {rows} rows of idioms");
    }

    [Fact]
    public void Every_AutoGrad_cell_compiles()
    {
        var blocks = string.Join("\n", Spans().Select(span => span.Code.EndsWith(';') || span.Code.EndsWith('}')
            ? $"{{ {span.Code} }}"
            : $"{{ _ = {span.Code}; }}"));
        var code = $$"""
            {{DocSnippetTests.Usings}}
            using AutoGrad.Kernels;
            using AutoGrad.Nn.Schedules;
            using AutoGrad.Nn.Serialization;
            namespace Snippets;
            internal static class Host
            {
                internal static void Run(Tensor x, Tensor y, Tensor w, Tensor b, Tensor output, Tensor target, Tensor loss, int[] labels,
                    Module model, Optimizer optimizer, Tape tape, TensorDataset train, Dataset data, string path)
                {
                    {{blocks}}
                }
            }
            """;
        var errors = DocSnippetTests.Compile(code);
        Assert.True(errors.Count == 0, $"{Page} has cells that do not compile:\n{string.Join('\n', errors)}\n{blocks}");
    }

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex CodeSpan();
}
