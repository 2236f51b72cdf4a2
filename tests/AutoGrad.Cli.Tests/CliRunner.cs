using Spectre.Console;

namespace AutoGrad.Cli.Tests;

/// <summary>Runs the command line in-process and captures what it prints.</summary>
internal static class CliRunner
{
    public static (int ExitCode, string Out, string Error) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(stdout),
            Ansi = AnsiSupport.No,
            Interactive = InteractionSupport.No,
        });
        var code = App.Run(args, stdout, stderr, console);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
