namespace AutoGrad.Tests.PublicApi;

/// <summary>
/// The library's public surface matches the listing checked in at docs/api/AutoGrad.txt, so every change to it is
/// deliberate. After an intended change, run the tests with AUTOGRAD_ACCEPT_API=1 to rewrite the listing, and review
/// its diff with the code.
/// </summary>
public class PublicApiTests
{
    private const string ListingPath = "docs/api/AutoGrad.txt";

    [Fact]
    public void The_public_surface_matches_the_checked_in_listing()
    {
        var actual = ApiListing.For(typeof(Tensor).Assembly);
        var path = Path.Combine(RepositoryFiles.Root, ListingPath);
        if (Environment.GetEnvironmentVariable("AUTOGRAD_ACCEPT_API") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, actual);
        }

        var expected = File.Exists(path) ? File.ReadAllText(path).ReplaceLineEndings("\n") : "";
        var added = actual.Split('\n').Except(expected.Split('\n')).ToList();
        var removed = expected.Split('\n').Except(actual.Split('\n')).ToList();
        Assert.True(
            added.Count == 0 && removed.Count == 0,
            $"The public API differs from {ListingPath} (rerun with AUTOGRAD_ACCEPT_API=1 if the change is intended).\n" +
            $"Added:\n  {string.Join("\n  ", added)}\nRemoved:\n  {string.Join("\n  ", removed)}");
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Only_the_test_and_benchmark_assemblies_see_internals()
    {
        var friends = typeof(Tensor).Assembly.GetCustomAttributes(typeof(System.Runtime.CompilerServices.InternalsVisibleToAttribute), false)
            .Cast<System.Runtime.CompilerServices.InternalsVisibleToAttribute>()
            .Select(a => a.AssemblyName)
            .ToList();
        Assert.All(friends, name => Assert.True(name.EndsWith(".Tests", StringComparison.Ordinal) || name == "AutoGrad.Benchmarks", $"{name} sees internals"));
    }

    [Fact]
    public void Public_names_follow_dotnet_conventions()
    {
        var listing = ApiListing.For(typeof(Tensor).Assembly);
        foreach (var type in typeof(Tensor).Assembly.GetExportedTypes())
        {
            Assert.True(char.IsUpper(type.Name[0]), $"type {type.FullName} is not PascalCase");
            Assert.DoesNotContain('_', type.Name);
            foreach (var member in type.GetMembers().Where(m => m.DeclaringType == type && !m.Name.StartsWith("op_", StringComparison.Ordinal) && !m.Name.StartsWith("get_", StringComparison.Ordinal) && !m.Name.StartsWith("set_", StringComparison.Ordinal) && m.Name is not (".ctor" or ".cctor" or "value__")))
            {
                Assert.True(char.IsUpper(member.Name[0]) || member.Name.StartsWith("<", StringComparison.Ordinal), $"{type.Name}.{member.Name} is not PascalCase");
                Assert.DoesNotContain('_', member.Name.TrimStart('<'));
            }
        }

        Assert.NotEmpty(listing);
    }
}
