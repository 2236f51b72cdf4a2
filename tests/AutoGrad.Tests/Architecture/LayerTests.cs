using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace AutoGrad.Tests.Architecture;

/// <summary>
/// The library's layers point one way: Kernels → Tensors → Autodiff → Ops → Transforms → Nn (a file may use its own layer and
/// those before it). Tensors, Autodiff and Ops share the <c>AutoGrad</c> namespace, so a using-grep sees nothing;
/// this test compiles the sources with Roslyn and checks every symbol each file uses against the folder that
/// declares it.
/// </summary>
public class LayerTests
{
    private static readonly string[] s_layers = ["Kernels", "Tensors", "Autodiff", "Operations", "Transforms", "Nn"];

    [Fact]
    public void No_file_uses_a_symbol_of_a_later_layer()
    {
        var root = Path.Combine(RepositoryFiles.Root, "src", "AutoGrad");
        var trees = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(path => Layer(root, path) >= 0)
            .Select(path => CSharpSyntaxTree.ParseText(File.ReadAllText(path), new CSharpParseOptions(LanguageVersion.Preview), path))
            .ToList();

        // The message types the build generates from Nn/Serialization/Proto/onnx.proto (the newest build's copy): they
        // bind the exporter's names, and, outside the source folders, are no layer's.
        var generated = new DirectoryInfo(Path.Combine(root, "obj")).EnumerateFiles("Onnx.cs", SearchOption.AllDirectories)
            .Where(file => file.FullName.Replace('\\', '/').EndsWith("/Nn/Serialization/Proto/Onnx.cs", StringComparison.Ordinal))
            .MaxBy(file => file.LastWriteTimeUtc)
            ?? throw new InvalidOperationException("The ONNX message types were not generated: build src/AutoGrad first.");
        trees.Add(CSharpSyntaxTree.ParseText(File.ReadAllText(generated.FullName), new CSharpParseOptions(LanguageVersion.Preview), generated.FullName));

        // The SDK's implicit usings, which the build adds to the library's sources.
        trees.Add(CSharpSyntaxTree.ParseText(
            "global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq; " +
            "global using System.Net.Http; global using System.Threading; global using System.Threading.Tasks;",
            new CSharpParseOptions(LanguageVersion.Preview),
            Path.Combine(root, "obj", "GlobalUsings.g.cs")));
        var compilation = CSharpCompilation.Create("layers", trees, References(), new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true));

        // Every name must bind, or a reference it hides would go unchecked.
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Take(5).ToList();
        Assert.True(errors.Count == 0, string.Join('\n', errors));

        var violations = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var tree in trees.Where(t => Layer(root, t.FilePath) >= 0))
        {
            var layer = Layer(root, tree.FilePath);
            var model = compilation.GetSemanticModel(tree);
            foreach (var node in tree.GetRoot().DescendantNodes().Where(n => n is SimpleNameSyntax or BinaryExpressionSyntax or PrefixUnaryExpressionSyntax))
            {
                var symbol = model.GetSymbolInfo(node).Symbol;
                if (symbol is null)
                {
                    continue;
                }

                var used = DeclaredLayer(root, symbol);
                if (used > layer)
                {
                    var line = node.GetLocation().GetLineSpan().StartLinePosition.Line + 1;
                    violations.Add($"{Path.GetRelativePath(root, tree.FilePath)}:{line} ({s_layers[layer]}) uses {symbol.ToDisplayString()} ({s_layers[used]})");
                }
            }
        }

        Assert.True(violations.Count == 0, "Arrows that run back up:\n" + string.Join('\n', violations));
    }

    /// <summary>The earliest layer that declares the symbol (a partial type may span layers: its core counts), or -1 outside the library.</summary>
    private static int DeclaredLayer(string root, ISymbol symbol)
    {
        var layers = symbol.DeclaringSyntaxReferences.Select(r => Layer(root, r.SyntaxTree.FilePath)).Where(l => l >= 0).ToList();
        if (layers.Count == 0 && symbol is IMethodSymbol { ReducedFrom: { } extension })
        {
            return DeclaredLayer(root, extension);
        }

        return layers.Count == 0 ? -1 : layers.Min();
    }

    private static int Layer(string root, string path)
    {
        var relative = Path.GetRelativePath(root, path).Replace('\\', '/');
        var folder = relative.Split('/')[0];
        return Array.IndexOf(s_layers, folder);
    }

    private static IEnumerable<MetadataReference> References() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(path => !Path.GetFileName(path).StartsWith("AutoGrad", StringComparison.Ordinal))
            .Select(path => MetadataReference.CreateFromFile(path));
}
