using System.IO.Compression;

using AutoGrad.Tests;

namespace AutoGrad.EndToEnd.Tests;

/// <summary>
/// Packs the library and the tool once per test run from a copy of the repository's sources (what a clean clone
/// holds), into a local feed, with a package cache of the run's own so no earlier build's package is picked up.
/// </summary>
public sealed class Packages : IDisposable
{
    /// <summary>What a clean clone needs to build the two packages.</summary>
    private static readonly string[] s_sourceEntries = ["src", "Directory.Build.props", "Directory.Packages.props", ".editorconfig", "README.md", "LICENSE"];

    public Packages()
    {
        Root = Path.Combine(Path.GetTempPath(), $"autograd-e2e-{Guid.NewGuid():N}");
        Feed = Path.Combine(Root, "feed");
        Environment = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(Root, "packages") };
        Directory.CreateDirectory(Feed);

        // Packing restores through the machine's usual cache; only the stranger's projects get a cache of their own.
        Pack(CopySources("sources-a"), Feed);
    }

    public string Root { get; }

    public string Feed { get; }

    public IReadOnlyDictionary<string, string> Environment { get; }

    public static string RepositoryRoot => RepositoryFiles.Root;

    public string Version => "0.1.0";

    /// <summary>Copies the sources to a new folder under the run's root (without build outputs) and returns it.</summary>
    public string CopySources(string name)
    {
        var target = Path.Combine(Root, name);
        foreach (var entry in s_sourceEntries)
        {
            var source = Path.Combine(RepositoryRoot, entry);
            if (File.Exists(source))
            {
                Directory.CreateDirectory(target);
                File.Copy(source, Path.Combine(target, entry));
                continue;
            }

            foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(RepositoryRoot, file);
                if (relative.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
                {
                    continue;
                }

                Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(target, relative))!);
                File.Copy(file, Path.Combine(target, relative));
            }
        }

        return target;
    }

    /// <summary>Packs the library and the tool from a copy of the sources into <paramref name="output"/>.</summary>
    public void Pack(string sources, string output)
    {
        foreach (var project in new[] { "src/AutoGrad/AutoGrad.csproj", "src/AutoGrad.Cli/AutoGrad.Cli.csproj" })
        {
            DotNet.Run(sources, null, "pack", project, "-c", "Release", "-o", output, "-nodeReuse:false", "--disable-build-servers");
        }
    }

    /// <summary>The bytes of one file inside a package.</summary>
    public static byte[] Entry(string package, string entry)
    {
        using var zip = ZipFile.OpenRead(package);
        using var stream = zip.GetEntry(entry)?.Open() ?? throw new FileNotFoundException($"{entry} is not in {package}");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>
    /// A nuget.config for a stranger's project: the local feed, the machine's package cache as a read-only feed (so the
    /// dependencies need no download; AutoGrad itself is never restored into it), then the machine's usual sources.
    /// </summary>
    public void WriteNuGetConfig(string folder)
    {
        var cache = System.Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Path.Combine(folder, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="autograd-local" value="{Feed}" />
                <add key="machine-cache" value="{cache}" />
              </packageSources>
            </configuration>
            """);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A process still holding a file: the temporary folder is left for the OS to clean.
        }
    }
}
