using System.CommandLine;
using System.Diagnostics;

namespace AutoGrad.Cli.Commands;

/// <summary>
/// <c>autograd graph</c>: records one forward pass of the book's TwoLayerNet (784-50-10) or SimpleConvNet (1×28×28),
/// a batch of 3 with SoftmaxWithLoss, and writes the tape as Graphviz DOT, and as SVG when Graphviz's <c>dot</c> is
/// installed.
/// </summary>
internal static class GraphCommand
{
    public static Command Create(TextWriter stdout)
    {
        var dotFile = new Option<string>("--dot") { Description = "Where to write the DOT text.", DefaultValueFactory = _ => "autograd-graph.dot" };
        var svgFile = new Option<string?>("--svg") { Description = "Where to write the SVG picture (default: the DOT file's name with .svg)." };
        var model = new Option<string>("--model") { Description = "The net to record: mlp (TwoLayerNet) or simple-cnn (SimpleConvNet).", DefaultValueFactory = _ => "mlp" };
        model.AcceptOnlyFromAmong("mlp", "simple-cnn");
        var command = new Command("graph", "Write the recorded graph of one of the book's nets as Graphviz DOT (and SVG when dot is installed).") { dotFile, svgFile, model };
        command.SetAction(result =>
        {
            var dotPath = result.GetValue(dotFile)!;
            var svgPath = result.GetValue(svgFile) ?? Path.ChangeExtension(dotPath, ".svg");
            File.WriteAllText(dotPath, result.GetValue(model) == "simple-cnn" ? Record(new SimpleConvNet(seed: 1), [3, 1, 28, 28]) : Record(new TwoLayerNet(784, 50, 10, seed: 1), [3, 784]));
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
    internal static string RecordTwoLayerNet() => Record(new TwoLayerNet(784, 50, 10, seed: 1), [3, 784]);

    /// <summary>The DOT text of one forward pass of <paramref name="model"/> on a batch of <paramref name="input"/>'s shape, with its loss.</summary>
    internal static string Record(Module model, int[] input)
    {
        var x = Tensor.RandomUniform(input, seed: 2);
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
