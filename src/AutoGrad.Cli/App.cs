using System.CommandLine;

using AutoGrad.Cli.Commands;

using Spectre.Console;

namespace AutoGrad.Cli;

/// <summary>The command tree and its error policy: one line on standard error and a non-zero exit, never a stack trace.</summary>
internal static class App
{
    /// <summary>Exit code for bad command-line input.</summary>
    public const int UsageError = 2;

    /// <summary>Exit code for a failure while running (missing or corrupt data, I/O).</summary>
    public const int RunError = 1;

    /// <summary>Exit code for an unexpected failure (a bug).</summary>
    public const int InternalError = 70;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, IAnsiConsole? console = null)
    {
        console ??= CreateConsole(stdout);
        var root = new RootCommand("AutoGrad: reverse-mode automatic differentiation for .NET.")
        {
            TrainCommand.Create(console, stdout, stderr),
            BenchCommand.Create(console, stdout),
            GraphCommand.Create(stdout),
            CheckCommand.Create(console, stdout),
            ExportCommand.Create(stdout),
        };

        var parsed = root.Parse(args);
        if (args.Length == 0)
        {
            parsed = root.Parse(["--help"]);
        }

        if (parsed.Errors.Count > 0)
        {
            var commands = root.Subcommands.Select(c => c.Name).ToList();
            if (args.Length > 0 && !args[0].StartsWith('-') && !commands.Contains(args[0]))
            {
                var nearest = commands.MinBy(c => EditDistance(c, args[0]))!;
                var hint = EditDistance(nearest, args[0]) <= 2 ? $"did you mean '{nearest}'?" : $"the commands are {string.Join(", ", commands)}.";
                stderr.WriteLine($"error: '{args[0]}' is not a command; {hint} (see 'autograd --help')");
                return UsageError;
            }

            // Some parser messages list choices on separate lines; the policy is one line.
            stderr.WriteLine($"error: {OneLine(parsed.Errors[0].Message)} (see 'autograd {string.Join(' ', args.Take(1))} --help')");
            return UsageError;
        }

        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or FormatException or InvalidOperationException or OptionException or ArithmeticException or NotSupportedException)
        {
            stderr.WriteLine($"error: {OneLine(e.Message)}");
            return e is OptionException ? UsageError : RunError;
        }
        catch (Exception e)
        {
            // Anything else is a bug in AutoGrad, but the user still gets one line, not a stack trace.
            stderr.WriteLine($"error: unexpected {e.GetType().Name}: {OneLine(e.Message)}");
            return InternalError;
        }
    }

    /// <summary>
    /// A message as one line: the lines joined, without the " (Parameter 'x')" and "Actual value was …" tails that
    /// .NET appends to argument exceptions (the message already names the value).
    /// </summary>
    public static string OneLine(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(line => !line.StartsWith("Actual value was", StringComparison.Ordinal))
            .Select(line => System.Text.RegularExpressions.Regex.Replace(line, @" \(Parameter '[^']*'\)$", string.Empty));
        return string.Join(' ', lines);
    }

    /// <summary>
    /// Colour and cursor codes only for a terminal: not when output is piped or redirected (a file, a test), and never
    /// when NO_COLOR is set (https://no-color.org).
    /// </summary>
    private static IAnsiConsole CreateConsole(TextWriter stdout)
    {
        var terminal = ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected;
        var noColor = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        return AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(stdout),
            Ansi = terminal && !noColor ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal && !noColor ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
    }

    private static int EditDistance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return previous[b.Length];
    }
}

/// <summary>An option value that parses but makes no sense (an unknown optimizer, a negative batch size).</summary>
internal sealed class OptionException(string message) : Exception(message);
