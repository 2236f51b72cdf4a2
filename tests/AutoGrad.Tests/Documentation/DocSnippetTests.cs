using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace AutoGrad.Tests.Documentation;

/// <summary>
/// The C# snippets of docs/from-the-book.md, docs/architecture.md and docs/forward-mode.md are compiled against the library (or, for an
/// excerpt of the library's own code, found in its source), so the docs cannot drift from the API they show.
/// </summary>
public class DocSnippetTests
{
    /// <summary>How each snippet is checked, in the order the document shows them; a new snippet needs a row here.</summary>
    public static TheoryData<string, int, string> Snippets => new()
    {
        { "docs/from-the-book.md", 0, Statements },
        { "docs/from-the-book.md", 1, Statements },
        { "docs/from-the-book.md", 2, Statements },
        { "docs/from-the-book.md", 3, Statements },
        { "docs/from-the-book.md", 4, Members },
        { "docs/from-the-book.md", 5, Statements },
        { "docs/architecture.md", 0, Types },
        { "docs/architecture.md", 1, "excerpt:src/AutoGrad/Autodiff/Tape.Backward.cs" },
        { "docs/architecture.md", 2, OpsMembers },
        { "docs/forward-mode.md", 0, Statements },
        { "docs/forward-mode.md", 1, Statements },
    };

    private const string Statements = "statements";
    private const string Members = "members";
    private const string Types = "types";
    private const string OpsMembers = "ops members";

    // A project's implicit usings (the package's among them), and TensorPrimitives by alias, as the README recommends (the namespace also holds a Tensor).
    internal const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Linq;
        using System.Numerics;
        using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
        using AutoGrad.Tensors;
        using AutoGrad.Autodiff;
        using AutoGrad.Operations;
        using AutoGrad.Transforms;
        using AutoGrad.Nn;
        using AutoGrad.Nn.Data;
        using AutoGrad.Nn.Optimizers;
        using AutoGrad.Nn.Training;
        """;

    [Fact]
    public void Every_snippet_has_a_row()
    {
        foreach (var doc in new[] { "docs/from-the-book.md", "docs/architecture.md", "docs/forward-mode.md" })
        {
            var count = RepositoryFiles.CodeBlocks(RepositoryFiles.Read(doc), "csharp").Count;
            Assert.Equal(count, Snippets.Count(row => (string)row[0] == doc));
        }
    }

    [Theory]
    [MemberData(nameof(Snippets))]
    public void The_snippet_compiles_against_the_library_or_stands_in_its_source(string doc, int index, string context)
    {
        var snippet = RepositoryFiles.CodeBlocks(RepositoryFiles.Read(doc), "csharp")[index];
        if (context.StartsWith("excerpt:", StringComparison.Ordinal))
        {
            var source = Normalize(RepositoryFiles.Read(context["excerpt:".Length..]));
            Assert.True(source.Contains(Normalize(snippet), StringComparison.Ordinal), $"{doc} snippet {index} is not an excerpt of {context[8..]}:\n{snippet}");
            return;
        }

        var code = context switch
        {
            // Free variables of the statement snippets, typed as the text around them says.
            Statements => $$"""
                {{Usings}}
                namespace Snippets;
                internal static class Host
                {
                    internal static void Run(Tensor x, Tensor w, Tensor b, Tensor scores, int[] labels, Tape tape)
                    {
                        {{snippet}}
                    }
                }
                """,
            Members => $$"""
                {{Usings}}
                namespace Snippets;
                internal sealed class Host
                {
                    public Dictionary<string, Tensor> Params { get; } = [];
                    {{snippet}}
                }
                """,
            Types => $"{Usings}\nnamespace Snippets;\n{snippet}",

            // An op as it goes into an Ops family file, beside the helpers that file has (stand-ins here).
            _ => $$"""
                {{Usings}}
                namespace AutoGrad.Snippets;
                internal static unsafe class Host
                {
                    {{snippet}}
                    private interface IUnaryMap { static abstract void Apply<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>; }
                    private static Tensor Unary<TMap>(Op op, Tensor x) where TMap : struct, IUnaryMap => x;
                    private static Tensor Tanh(Tensor x) => Ops.Tanh(x);
                    private static void LogCoshForward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged => x.CopyTo(y);
                    private static OpSample Gradient(string op, Func<Tensor[], Tensor> f, params Func<Tensor>[] inputs) => OpSamples.Gradient(op, f, inputs);
                    private static OpBadInput Bad<TException>(string description, Func<object> call, params string[] fragments) where TException : Exception => OpSamples.Bad<TException>(description, call, fragments);
                    private static Func<Tensor> N(int seed, params int[] shape) => OpSamples.N(seed, shape);
                }
                """,
        };

        var errors = Compile(code);
        Assert.True(errors.Count == 0, $"{doc} snippet {index} does not compile:\n{string.Join('\n', errors)}\n{snippet}");
    }

    internal static List<string> Compile(string code)
    {
        // Named as this test assembly, to which the library grants its internals (as it does to the real one).
        var compilation = CSharpCompilation.Create(
            "AutoGrad.Tests",
            [CSharpSyntaxTree.ParseText(code, new CSharpParseOptions(LanguageVersion.Preview))],
            References(),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));
        using var output = new MemoryStream();
        var result = compilation.Emit(output);
        return [.. result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString())];
    }

    private static IEnumerable<MetadataReference> References()
    {
        var platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var library = new[] { typeof(Tensor).Assembly.Location, typeof(System.Numerics.Tensors.TensorPrimitives).Assembly.Location };
        return platform.Concat(library).Distinct().Select(path => MetadataReference.CreateFromFile(path));
    }

    /// <summary>The code lines, trimmed, without blank lines and whole-line comments (an excerpt may leave comments out).</summary>
    private static string Normalize(string text) =>
        string.Join('\n', text.ReplaceLineEndings("\n").Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0 && !line.StartsWith("//", StringComparison.Ordinal)));
}
