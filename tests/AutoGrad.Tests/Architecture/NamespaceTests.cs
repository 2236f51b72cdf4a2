using System.Text.RegularExpressions;

namespace AutoGrad.Tests.Architecture;

/// <summary>Each folder of the library is a namespace, so a file's usings show which layers it depends on.</summary>
public class NamespaceTests
{
    /// <summary>
    /// The files C# keeps apart: the parts of the partial class Tensor that later layers add (its operators, methods and
    /// backward pass) must share its namespace.
    /// </summary>
    private static readonly Dictionary<string, string> s_exceptions = new(StringComparer.Ordinal)
    {
        ["Operations/Tensor.Operators.cs"] = "AutoGrad.Tensors",
        ["Operations/Tensor.Methods.cs"] = "AutoGrad.Tensors",
        ["Operations/Tensor.Indexing.cs"] = "AutoGrad.Tensors",
        ["Autodiff/Tensor.Backward.cs"] = "AutoGrad.Tensors",
    };

    [Theory]
    [InlineData("src/AutoGrad", "AutoGrad")]
    [InlineData("tests/AutoGrad.Tests", "AutoGrad.Tests")]
    public void Every_namespace_matches_its_folder(string folder, string rootNamespace)
    {
        var root = Path.Combine(RepositoryFiles.Root, folder);
        var declaration = new Regex(@"^namespace ([\w.]+);", RegexOptions.Multiline | RegexOptions.CultureInvariant);
        var mismatches = new List<string>();
        foreach (var path in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
        {
            var file = Path.GetRelativePath(root, path).Replace('\\', '/');
            if (file.StartsWith("obj/", StringComparison.Ordinal) || file.StartsWith("bin/", StringComparison.Ordinal))
            {
                continue;
            }

            var directory = Path.GetDirectoryName(file)!.Replace('\\', '/');
            var expected = s_exceptions.GetValueOrDefault(file) ?? (directory.Length == 0 ? rootNamespace : $"{rootNamespace}.{directory.Replace('/', '.')}");
            var match = declaration.Match(File.ReadAllText(path));
            if (!match.Success || match.Groups[1].Value != expected)
            {
                mismatches.Add($"{file}: {(match.Success ? match.Groups[1].Value : "no namespace")}, not {expected}");
            }
        }

        Assert.Equal([], mismatches);
    }
}
