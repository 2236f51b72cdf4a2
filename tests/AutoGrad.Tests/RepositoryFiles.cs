namespace AutoGrad.Tests;

/// <summary>Finds files of the repository (README, samples) from the test's output folder.</summary>
internal static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    public static string Read(string relativePath) => File.ReadAllText(Path.Combine(Root, relativePath));

    /// <summary>The contents of the fenced code blocks of a Markdown file with the given info string, in order.</summary>
    public static List<string> CodeBlocks(string markdown, string language)
    {
        var blocks = new List<string>();
        var lines = markdown.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimEnd() != "```" + language)
            {
                continue;
            }

            var end = Array.FindIndex(lines, i + 1, l => l.TrimEnd() == "```");
            blocks.Add(string.Join('\n', lines[(i + 1)..end]) + "\n");
            i = end;
        }

        return blocks;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AutoGrad.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("AutoGrad.sln not found above " + AppContext.BaseDirectory);
    }
}
