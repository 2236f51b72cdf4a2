using System.IO.Compression;
using System.Text.Json;
using System.Xml.Linq;

using AutoGrad.Tests;

namespace AutoGrad.EndToEnd.Tests;

/// <summary>The two packages as a stranger meets them: metadata, reproducibility, the README's example, the tool.</summary>
[Trait("Category", "Slow")] // packs both packages and builds strangers' projects: 20-40 s
public sealed class PackageTests(Packages packages) : IClassFixture<Packages>
{
    private string Library => Path.Combine(packages.Feed, $"AutoGrad.{packages.Version}.nupkg");

    private string Tool => Path.Combine(packages.Feed, $"AutoGrad.Tool.{packages.Version}.nupkg");

    [Fact]
    public void The_library_package_carries_metadata_readme_license_and_xml_docs()
    {
        var nuspec = Nuspec(Library);
        Assert.Equal("AutoGrad", nuspec["id"]);
        Assert.Equal("README.md", nuspec["readme"]);
        Assert.Equal("LICENSE", nuspec["license"]);
        Assert.Contains("automatic differentiation", nuspec["description"]);
        Assert.False(string.IsNullOrWhiteSpace(nuspec["authors"]));
        Assert.Contains("autodiff", nuspec["tags"]);

        Assert.Equal(File.ReadAllBytes(Path.Combine(Packages.RepositoryRoot, "README.md")), Packages.Entry(Library, "README.md"));
        Assert.Equal(File.ReadAllBytes(Path.Combine(Packages.RepositoryRoot, "LICENSE")), Packages.Entry(Library, "LICENSE"));
        Assert.Contains("CC BY 4.0", System.Text.Encoding.UTF8.GetString(Packages.Entry(Library, "data/digits.README.md")));
        var docs = XDocument.Load(new MemoryStream(Packages.Entry(Library, "lib/net10.0/AutoGrad.Core.xml")));
        Assert.Contains(docs.Descendants("member"), m => (string?)m.Attribute("name") == "M:AutoGrad.Autodiff.Tape.Backward(AutoGrad.Tensors.Tensor)");

        // The global usings a project with implicit usings gets: the README's first example has no using line.
        var props = System.Text.Encoding.UTF8.GetString(Packages.Entry(Library, "buildTransitive/AutoGrad.props"));
        Assert.Contains("<Using Include=\"AutoGrad.Tensors\" />", props);
        Assert.Equal(props, System.Text.Encoding.UTF8.GetString(Packages.Entry(Library, "build/AutoGrad.props")));

        // Only the chosen dependencies (Google.Protobuf for ONNX export), nothing from the build: not Grpc.Tools, which
        // compiles onnx.proto, nor analyzers or test packages (ONNX Runtime is the tests' alone).
        var dependencies = DependencyIds(Library);
        Assert.Equal(["CommunityToolkit.HighPerformance", "Google.Protobuf", "System.IO.Hashing", "System.Numerics.Tensors"], dependencies);
    }

    [Fact]
    public void The_tool_package_is_a_dotnet_tool_named_autograd()
    {
        var nuspec = Nuspec(Tool);
        Assert.Equal("AutoGrad.Tool", nuspec["id"]);
        Assert.Equal("README.md", nuspec["readme"]);
        Assert.Equal("LICENSE", nuspec["license"]);
        var settings = XDocument.Load(new MemoryStream(Packages.Entry(Tool, "tools/net10.0/any/DotnetToolSettings.xml")));
        Assert.Equal("autograd", settings.Descendants("Command").Single().Attribute("Name")?.Value);
    }

    [Fact]
    public void Packing_the_same_sources_in_another_folder_gives_identical_assemblies()
    {
        var otherFeed = Path.Combine(packages.Root, "feed-b");
        packages.Pack(packages.CopySources("sources-b"), otherFeed);

        foreach (var (package, entry) in new[] { ("AutoGrad", "lib/net10.0/AutoGrad.Core.dll"), ("AutoGrad.Tool", "tools/net10.0/any/autograd.dll") })
        {
            var first = Packages.Entry(Path.Combine(packages.Feed, $"{package}.{packages.Version}.nupkg"), entry);
            var second = Packages.Entry(Path.Combine(otherFeed, $"{package}.{packages.Version}.nupkg"), entry);
            Assert.True(first.AsSpan().SequenceEqual(second), $"{entry} differs between two builds of the same sources");
        }
    }

    [Fact]
    public void The_README_first_example_compiles_from_the_package_and_prints_what_the_README_says()
    {
        var app = StrangersApp("Stranger");

        var readme = File.ReadAllText(Path.Combine(Packages.RepositoryRoot, "README.md")).ReplaceLineEndings("\n");
        File.WriteAllText(Path.Combine(app, "Program.cs"), RepositoryFiles.CodeBlocks(readme, "csharp")[0]);
        var printed = DotNet.Run(app, packages.Environment, "run", "-c", "Release").ReplaceLineEndings("\n");

        Assert.Equal(RepositoryFiles.CodeBlocks(readme, "text")[0], printed);
    }

    [Fact]
    public void The_tool_installs_from_the_feed_and_trains_on_the_digits()
    {
        var tools = Path.Combine(packages.Root, "tools");
        var scratch = Path.Combine(packages.Root, "tool-install");
        Directory.CreateDirectory(scratch);
        packages.WriteNuGetConfig(scratch);
        DotNet.Run(scratch, packages.Environment, "tool", "install", "AutoGrad.Tool", "--tool-path", tools, "--version", packages.Version);

        var json = DotNet.Exec(Path.Combine(tools, "autograd"), scratch, packages.Environment, "train", "--json", "--plot", Path.Combine(scratch, "curve.svg"));
        using var result = JsonDocument.Parse(json);
        Assert.Equal("digits", result.RootElement.GetProperty("dataset").GetString());
        Assert.True(result.RootElement.GetProperty("testAccuracy").GetDouble() >= 0.96, json);
        Assert.True(File.Exists(Path.Combine(scratch, "curve.svg")));
    }

    [Fact]
    public void A_save_interrupted_by_a_signal_or_a_kill_leaves_no_temporary_file_behind()
    {
        // A stranger's program saves through AtomicFile and hangs mid-write; it is interrupted as a user or a
        // supervisor would. Ctrl+C (SIGINT) and SIGTERM run no finally block, so the library's handlers delete the
        // temporary. SIGKILL runs nothing at all: its temporary stays until the next save of the same file.
        var app = StrangersApp("Interrupted");
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using AutoGrad.Nn.Serialization;

            AtomicFile.Write(args[0], stream =>
            {
                stream.Write(new byte[4096]);
                if (args[1] == "hang")
                {
                    Console.WriteLine("writing");
                    Thread.Sleep(Timeout.Infinite);
                }
            });
            """);
        DotNet.Run(app, packages.Environment, "build", "-c", "Release", "-o", "out");
        var program = Path.Combine(app, "out", "Interrupted.dll");
        var data = Path.Combine(app, "data");
        Directory.CreateDirectory(data);
        var target = Path.Combine(data, "model.safetensors");

        foreach (var signal in new[] { "INT", "TERM" })
        {
            Interrupt(program, target, signal);
            Assert.Empty(Directory.GetFiles(data));
        }

        Interrupt(program, target, "KILL");
        Assert.Single(Directory.GetFiles(data, ".model.safetensors.*.tmp"));
        DotNet.Run(data, packages.Environment, program, target, "finish");
        Assert.Equal([target], Directory.GetFiles(data));
    }

    /// <summary>A new console project, as a stranger makes one, referencing the library from the local feed.</summary>
    private string StrangersApp(string name)
    {
        var app = Path.Combine(packages.Root, name.ToLowerInvariant());
        Directory.CreateDirectory(app);
        packages.WriteNuGetConfig(app);
        DotNet.Run(app, packages.Environment, "new", "console", "--name", name, "--output", ".");
        DotNet.Run(app, packages.Environment, "add", "package", "AutoGrad", "--version", packages.Version);
        return app;
    }

    private void Interrupt(string program, string target, string signal)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(program);
        start.ArgumentList.Add(target);
        start.ArgumentList.Add("hang");
        using var process = System.Diagnostics.Process.Start(start)!;
        Assert.Equal("writing", process.StandardOutput.ReadLine());
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(target)!, ".model.safetensors.*.tmp"));
        using (var kill = System.Diagnostics.Process.Start("kill", ["-s", signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
        }

        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), $"the program did not end on SIG{signal}");
    }

    private static Dictionary<string, string> Nuspec(string package)
    {
        using var zip = ZipFile.OpenRead(package);
        var entry = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using var stream = entry.Open();
        var metadata = XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        return metadata.Elements().GroupBy(e => e.Name.LocalName).ToDictionary(g => g.Key, g => g.First().Value);
    }

    private static List<string> DependencyIds(string package)
    {
        using var zip = ZipFile.OpenRead(package);
        using var stream = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        return [.. XDocument.Load(stream).Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => e.Attribute("id")!.Value).Order()];
    }
}
