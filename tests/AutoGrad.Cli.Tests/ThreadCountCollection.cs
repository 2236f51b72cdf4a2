namespace AutoGrad.Cli.Tests;

/// <summary>
/// Commands that set the process-wide thread count for their run (<c>train --threads</c>, and <c>train</c> without it,
/// which restores what it found; <c>bench</c>, which steps through 1 and 2) must not run beside each other: one
/// would save and restore the value the other has set for the moment, and leave it behind.
/// </summary>
[CollectionDefinition(nameof(ThreadCountCollection))]
public class ThreadCountCollection;
