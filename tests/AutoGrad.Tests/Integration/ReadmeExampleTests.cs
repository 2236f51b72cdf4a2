using System.Globalization;
using System.Reflection;

namespace AutoGrad.Tests.Integration;

[Collection(nameof(ConsoleCapture))]
public class ReadmeExampleTests
{
    [Fact]
    public void The_first_example_is_the_QuickStart_sample_and_prints_what_the_README_says()
    {
        var readme = RepositoryFiles.Read("README.md");
        var example = RepositoryFiles.CodeBlocks(readme, "csharp")[0];
        Assert.Equal(RepositoryFiles.Read("samples/QuickStart/Program.cs").ReplaceLineEndings("\n"), example);

        var printed = RunQuickStart();
        Assert.Equal(RepositoryFiles.CodeBlocks(readme, "text")[0], printed);

        // Hand derivation: z = x·W + b = [[1.1, −0.5], [2.6, −1.3]], and dy/db_j = Σᵢ (1 − tanh² zᵢⱼ).
        var db0 = (1 - Math.Pow(Math.Tanh(1.1), 2)) + (1 - Math.Pow(Math.Tanh(2.6), 2));
        var db1 = (1 - Math.Pow(Math.Tanh(-0.5), 2)) + (1 - Math.Pow(Math.Tanh(-1.3), 2));
        Assert.Contains($"[{db0.ToString("G10", CultureInfo.InvariantCulture)}, {db1.ToString("G10", CultureInfo.InvariantCulture)}]", printed);
    }

    private static string RunQuickStart() => SampleRunner.Run("QuickStart");
}

/// <summary>Runs a sample's entry point in-process and returns what it printed.</summary>
internal static class SampleRunner
{
    public static string Run(string assembly, params string[] args)
    {
        var entry = Assembly.Load(assembly).EntryPoint!;
        var original = Console.Out;
        using var output = new StringWriter { NewLine = "\n" };
        Console.SetOut(output);
        try
        {
            entry.Invoke(null, entry.GetParameters().Length == 0 ? null : [args]);
        }
        finally
        {
            Console.SetOut(original);
        }

        return output.ToString();
    }
}
