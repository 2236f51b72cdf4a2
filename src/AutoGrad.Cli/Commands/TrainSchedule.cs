using System.Globalization;

using AutoGrad.Nn.Optimizers;
using AutoGrad.Nn.Schedules;

namespace AutoGrad.Cli.Commands;

/// <summary>
/// <c>--schedule</c>: a learning-rate schedule written as <c>KIND[:NUMBER[:NUMBER]]</c>, checked when the options are
/// read and made once the optimizer and the run's length are known.
/// </summary>
/// <param name="Kind">step, exponential, cosine, onecycle or plateau.</param>
/// <param name="Numbers">The numbers after the kind.</param>
internal sealed record TrainSchedule(string Kind, IReadOnlyList<double> Numbers)
{
    public const string Help =
        "A learning-rate schedule: step:EPOCHS[:GAMMA] (times GAMMA, default 0.1, every EPOCHS epochs), exponential:GAMMA (per epoch), " +
        "cosine[:WARMUP] (a linear warm-up of WARMUP batches, then a cosine down to 0 over the run), onecycle (up to --lr and down over the run), " +
        "plateau[:FACTOR[:PATIENCE]] (times FACTOR, default 0.1, after PATIENCE epochs, default 10, without a lower training loss).";

    private static readonly Dictionary<string, (int Least, int Most)> s_arity = new(StringComparer.Ordinal)
    {
        ["step"] = (1, 2),
        ["exponential"] = (1, 1),
        ["cosine"] = (0, 1),
        ["onecycle"] = (0, 0),
        ["plateau"] = (0, 2),
    };

    /// <summary>Reads the option's text, or throws the option's one-line error.</summary>
    public static TrainSchedule Parse(string text)
    {
        var parts = text.Split(':');
        if (!s_arity.TryGetValue(parts[0], out var arity))
        {
            throw new OptionException($"--schedule: '{parts[0]}' is not a schedule; use step, exponential, cosine, onecycle or plateau.");
        }

        var count = parts.Length - 1;
        if (count < arity.Least || count > arity.Most)
        {
            throw new OptionException($"--schedule: {parts[0]} takes {(arity.Least == arity.Most ? $"{arity.Least}" : $"{arity.Least} to {arity.Most}")} numbers after it, got {count} in '{text}'.");
        }

        var numbers = new double[count];
        for (var i = 0; i < count; i++)
        {
            if (!double.TryParse(parts[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out numbers[i]) || !double.IsFinite(numbers[i]))
            {
                throw new OptionException($"--schedule: '{parts[i + 1]}' in '{text}' is not a finite number.");
            }
        }

        var schedule = new TrainSchedule(parts[0], numbers);
        schedule.Create(new Sgd([AutoGrad.Tensors.Tensor.Zeros([1])], 0.1), totalBatches: int.MaxValue);
        return schedule;
    }

    /// <summary>The schedule for a run of <paramref name="totalBatches"/> steps (one of the two is null).</summary>
    public (LearningRateScheduler? Schedule, ReduceOnPlateau? Plateau) Create(Optimizer optimizer, int totalBatches)
    {
        try
        {
            return Kind switch
            {
                "step" => (new StepDecay(optimizer, WholeNumber(0), Numbers.Count > 1 ? Numbers[1] : 0.1), null),
                "exponential" => (new ExponentialDecay(optimizer, Numbers[0]), null),
                "cosine" => (new CosineWithWarmup(optimizer, Numbers.Count > 0 ? WholeNumber(0) : 0, Math.Max(totalBatches, 1)), null),
                "onecycle" => (new OneCycle(optimizer, optimizer.LearningRate, Math.Max(totalBatches, 2)), null),
                _ => (null, new ReduceOnPlateau(optimizer, factor: Numbers.Count > 0 ? Numbers[0] : 0.1, patience: Numbers.Count > 1 ? WholeNumber(1) : 10)),
            };
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new OptionException($"--schedule: {App.OneLine(e.Message)}");
        }
    }

    private int WholeNumber(int index) => Numbers[index] == Math.Floor(Numbers[index]) && Math.Abs(Numbers[index]) <= int.MaxValue
        ? (int)Numbers[index]
        : throw new OptionException($"--schedule: {Kind} needs a whole number, not {Numbers[index].ToString(CultureInfo.InvariantCulture)}.");
}
