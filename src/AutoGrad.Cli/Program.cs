using AutoGrad.Cli;

return App.Run(args, Console.Out, Console.Error);
