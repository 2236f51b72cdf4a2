using BenchmarkDotNet.Running;

// Run all suites, or pick with --filter, e.g. `--filter *TapeOverhead*`.
BenchmarkSwitcher.FromAssembly(typeof(AutoGrad.Benchmarks.TapeOverheadBenchmarks).Assembly).Run(args);
