using System.Text.RegularExpressions;

namespace AutoGrad.Tests.Architecture;

/// <summary>
/// Code written for both element types goes through one dispatch (<c>ElementType.Dispatch</c>), never a hand-written
/// <c>if (x.DType == DType.Float32) … else …</c> that a third element type would silently fall into the else of.
/// </summary>
public class ElementTypeDispatchTests
{
    /// <summary>Files that name an element type for what it is, not to pick code: names, print precision, file formats.</summary>
    private static readonly Dictionary<string, string> s_allowed = new(StringComparer.Ordinal)
    {
        ["Tensors/DType.cs"] = "the names and sizes of the element types",
        ["Tensors/Tensor.Format.cs"] = "float32 prints its shortest round-trip form, float64 ten digits",
        ["Nn/Serialization/Npy.cs"] = "the npy descr codes <f4 and <f8",
        ["Nn/Serialization/SafeTensors.cs"] = "the safetensors codes F32 and F64",
        ["Nn/Data/DataLoader.cs"] = "image bytes are widened straight into float32 batches only",
    };

    [Fact]
    public void Only_the_dispatch_turns_an_element_type_into_code()
    {
        var root = Path.Combine(RepositoryFiles.Root, "src", "AutoGrad");
        var test = new Regex(@"DType\s*[!=]=\s*DType\.Float(32|64)|==\s*DType\.Float(32|64)", RegexOptions.CultureInvariant);
        var offenders = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(path => Path.GetRelativePath(root, path).Replace('\\', '/'))
            .Where(file => !s_allowed.ContainsKey(file) && test.IsMatch(File.ReadAllText(Path.Combine(root, file))))
            .Order(StringComparer.Ordinal)
            .ToArray();

        Assert.Equal([], offenders);
    }

    [Fact]
    public void An_element_type_the_dispatch_does_not_know_is_refused_by_name()
    {
        var error = Assert.Throws<NotSupportedException>(() => Tensor.Zeros([2], (DType)7));
        Assert.Contains("Element type 7", error.Message, StringComparison.Ordinal);
    }
}
