using AutoGrad.Nn.Optimizers;
using AutoGrad.Nn.Schedules;

using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Nn.Schedules;

/// <summary>
/// Issue 16's learning-rate schedules against the rates PyTorch 1.13's schedulers set for the same settings (recorded
/// from Debian's python3-torch: SGD at the given rate, the rate read before each optimizer step, then scheduler.step()).
/// </summary>
public class ScheduleTests
{
    private static Sgd Optimizer(double rate) => new([Tensor.Zeros([1])], rate);

    private static double[] Rates(LearningRateScheduler schedule, int steps)
    {
        var rates = new double[steps];
        for (var i = 0; i < steps; i++)
        {
            rates[i] = schedule.Optimizer.LearningRate;
            schedule.Step();
        }

        return rates;
    }

    [Fact]
    public void StepDecay_is_PyTorchs_StepLR()
    {
        double[] torch = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025];
        AssertClose(torch, Rates(new StepDecay(Optimizer(0.1), stepSize: 3, gamma: 0.5), 8), 1e-15, 0);
    }

    [Fact]
    public void ExponentialDecay_is_PyTorchs_ExponentialLR()
    {
        double[] torch = [0.1, 0.09000000000000001, 0.08100000000000002, 0.07290000000000002, 0.06561000000000002];
        AssertClose(torch, Rates(new ExponentialDecay(Optimizer(0.1), 0.9), 5), 1e-15, 0);
    }

    [Fact]
    public void OneCycle_is_PyTorchs_OneCycleLR()
    {
        double[] torch = [0.008000000000000007, 0.10400000000000001, 0.2, 0.19009692640269477, 0.1623491307899526, 0.12225240438725786,
            0.07774839561274215, 0.0376516692100474, 0.009903873597305258, 8e-07];
        var schedule = new OneCycle(Optimizer(0.1), maxRate: 0.2, totalSteps: 10);
        AssertClose(torch, Rates(schedule, 10), 1e-14, 0);
        Assert.Equal(8e-07, schedule.Optimizer.LearningRate, 1e-18); // past the end the last rate stays
    }

    [Fact]
    public void The_cosine_is_PyTorchs_CosineAnnealingLR_and_the_warmup_rises_linearly()
    {
        // PyTorch's CosineAnnealingLR(T_max = 6, eta_min = 0.01) for its first half period; after it, this one stays at the floor.
        double[] torch = [0.1, 0.09397114317029975, 0.07750000000000001, 0.055000000000000014, 0.032500000000000015, 0.01602885682970026, 0.01];
        AssertClose([.. torch, 0.01], Rates(new CosineWithWarmup(Optimizer(0.1), warmupSteps: 0, totalSteps: 6, minRate: 0.01), 8), 1e-14, 0);

        var warm = Rates(new CosineWithWarmup(Optimizer(0.1), warmupSteps: 4, totalSteps: 10), 11);
        AssertClose([0.025, 0.05, 0.075, 0.1], warm[..4], 1e-15, 0);
        Assert.Equal(0.05, warm[7], 1e-15); // half-way down the cosine (step 4 + 3 of 6)
        Assert.Equal(0.0, warm[10]); // a schedule may end at 0, which a rate set by hand may not
    }

    [Fact]
    public void ReduceOnPlateau_is_PyTorchs_ReduceLROnPlateau()
    {
        double[] metrics = [10, 9, 9, 9, 9, 8, 8.9999, 8.5, 8.5, 8.5, 8.5, 8.5];
        double[] torch = [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125];
        var schedule = new ReduceOnPlateau(Optimizer(1.0), factor: 0.5, patience: 2);
        var rates = metrics.Select(m =>
        {
            schedule.Step(m);
            return schedule.Optimizer.LearningRate;
        }).ToArray();
        Assert.Equal(torch, rates);
        Assert.Equal(8.0, schedule.Best);
    }

    [Fact]
    public void Bad_settings_name_the_schedule_and_the_value()
    {
        Assert.Contains("StepDecay: stepSize must be at least 1, got 0", Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecay(Optimizer(0.1), 0)).Message);
        Assert.Contains("ExponentialDecay: gamma must be in (0, 1], got 1.5", Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialDecay(Optimizer(0.1), 1.5)).Message);
        Assert.Contains("warmupSteps must be in [0, 5)", Assert.Throws<ArgumentOutOfRangeException>(() => new CosineWithWarmup(Optimizer(0.1), 5, 5)).Message);
        Assert.Contains("minRate must be in [0, 0.1)", Assert.Throws<ArgumentOutOfRangeException>(() => new CosineWithWarmup(Optimizer(0.1), 0, 5, minRate: 0.2)).Message);
        Assert.Contains("OneCycle: percentStart must be in (0, 1)", Assert.Throws<ArgumentOutOfRangeException>(() => new OneCycle(Optimizer(0.1), 0.2, 10, percentStart: 1)).Message);
        Assert.Contains("ReduceOnPlateau: factor must be in (0, 1)", Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceOnPlateau(Optimizer(0.1), factor: 1)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceOnPlateau(Optimizer(0.1)).Step(double.NaN));
    }
}
