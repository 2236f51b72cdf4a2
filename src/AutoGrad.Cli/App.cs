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
        console ??= AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout) });
        var root = new RootCommand("AutoGrad: reverse-mode automatic differentiation for .NET.")
        {
            TrainCommand.Create(console, stdout),
            BenchCommand.Create(console, stdout),
            GraphCommand.Create(stdout),
            CheckCommand.Create(console, stdout),
        };

        var parsed = root.Parse(args);
        if (args.Length == 0)
        {
            parsed = root.Parse(["--help"]);
        }

        if (parsed.Errors.Count > 0)
        {
            // Some parser messages list choices on separate lines; the policy is one line.
            var message = string.Join(' ', parsed.Errors[0].Message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
            stderr.WriteLine($"error: {message} (see 'autograd {string.Join(' ', args.Take(1))} --help')");
            return UsageError;
        }

        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or FormatException or InvalidOperationException or OptionException or ArithmeticException)
        {
            stderr.WriteLine($"error: {e.Message}");
            return e is OptionException ? UsageError : RunError;
        }
        catch (Exception e)
        {
            // Anything else is a bug in AutoGrad, but the user still gets one line, not a stack trace.
            stderr.WriteLine($"error: unexpected {e.GetType().Name}: {e.Message}");
            return InternalError;
        }
    }
}

/// <summary>An option value that parses but makes no sense (an unknown optimizer, a negative batch size).</summary>
internal sealed class OptionException(string message) : Exception(message);
