namespace AutoGrad.Cli.Commands;

/// <summary>
/// Checks the files a run will write before it reads any data or trains: a wrong extension or a missing or read-only
/// folder found after training would lose the whole run.
/// </summary>
internal static class OutputPaths
{
    /// <summary>Checks <c>--save</c>, <c>--plot</c> and <c>--load</c>, throwing an exception that names the option.</summary>
    public static void Check(string? save, string? plot, string? load)
    {
        if (save is not null)
        {
            var extension = Path.GetExtension(save).ToLowerInvariant();
            if (extension is not (".safetensors" or ".npz"))
            {
                throw new OptionException($"--save: '{save}' must end in .safetensors or .npz (the format is chosen by extension).");
            }

            CheckFolder(save, "--save");
        }

        if (plot is not null)
        {
            if (!Path.GetExtension(plot).Equals(".svg", StringComparison.OrdinalIgnoreCase))
            {
                throw new OptionException($"--plot: '{plot}' must end in .svg (the curves are drawn as SVG).");
            }

            CheckFolder(plot, "--plot");
        }

        if (save is not null && plot is not null && Path.GetFullPath(save) == Path.GetFullPath(plot))
        {
            throw new OptionException($"--save and --plot name the same file, {save}; the picture would overwrite the parameters.");
        }

        if (load is not null && !File.Exists(load))
        {
            // A missing input file is a data error (exit 1), as a corrupt one is, not a usage error.
            throw new FileNotFoundException($"--load: {load} does not exist.", load);
        }
    }

    /// <summary>Checks that <paramref name="path"/> names a file in an existing, writable folder.</summary>
    public static void CheckFolder(string path, string option)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(folder))
        {
            throw new OptionException($"{option}: the folder {folder} does not exist.");
        }

        if (Directory.Exists(path))
        {
            throw new OptionException($"{option}: {path} is a folder, not a file.");
        }

        try
        {
            // The only reliable test of "writable" (permissions, read-only mounts, quotas): write a file and remove it.
            using var probe = new FileStream(
                Path.Combine(folder, $".autograd-probe-{Guid.NewGuid():N}"), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OptionException($"{option}: the folder {folder} is not writable ({App.OneLine(e.Message)}).");
        }
    }
}
