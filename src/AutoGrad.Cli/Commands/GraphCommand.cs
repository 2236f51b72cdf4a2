using System.CommandLine;
using System.Diagnostics;


namespace AutoGrad.Cli.Commands;

/// <summary>
/// <c>autograd graph</c>: records the book's TwoLayerNet (784-50-10, a batch of 3, SoftmaxWithLoss) and writes the tape
/// as Graphviz DOT, and as SVG when Graphviz's <c>dot</c> is installed.
/// </summary>
internal static class GraphCommand
{
    public static Command Create(TextWriter stdout)
    {
        var dotFile = new Option<string>("--dot") { Description = "Where to write the DOT text.", DefaultValueFactory = _ => "autograd-graph.dot" };
        var svgFile = new Option<string?>("--svg") { Description = "Where to write the SVG picture (default: the DOT file's name with .svg)." };
        var command = new Command("graph", "Write the recorded graph of the book's TwoLayerNet as Graphviz DOT (and SVG when dot is installed).") { dotFile, svgFile };
        command.SetAction(result =>
        {
            var dotPath = result.GetValue(dotFile)!;
            var svgPath = result.GetValue(svgFile) ?? Path.ChangeExtension(dotPath, ".svg");
            File.WriteAllText(dotPath, RecordTwoLayerNet());
            stdout.WriteLine($"wrote {dotPath}");
            if (FindOnPath("dot") is not { } dot)
            {
                stdout.WriteLine("Graphviz's dot is not installed (apt-get install graphviz), so no SVG was drawn.");
                return 0;
            }

            using var process = Process.Start(new ProcessStartInfo(dot, ["-Tsvg", dotPath, "-o", svgPath]) { RedirectStandardError = true })!;
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new IOException($"dot failed with exit code {process.ExitCode}: {error.Trim()}");
            }

            stdout.WriteLine($"wrote {svgPath}");
            return 0;
        });
        return command;
    }

    /// <summary>The DOT text of one forward pass of TwoLayerNet with its loss, parameters named as in the state dict.</summary>
    internal static string RecordTwoLayerNet()
    {
        var model = new TwoLayerNet(784, 50, 10, seed: 1);
        var x = Tensor.RandomUniform([3, 784], seed: 2);
        using var tape = new Tape();
        tape.Watch(x);
        var loss = Ops.SoftmaxWithLoss(model.Forward(x), new[] { 3, 1, 4 });
        var names = model.NamedParameters().ToDictionary(p => p.Parameter, p => p.Name, (IEqualityComparer<Tensor>)ReferenceEqualityComparer.Instance);
        names[x] = "x";
        return tape.ToDot(loss, names);
    }

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, program))
            .FirstOrDefault(File.Exists);
}
