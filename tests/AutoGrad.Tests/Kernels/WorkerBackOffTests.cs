using AutoGrad.Kernels;

namespace AutoGrad.Tests.Kernels;

/// <summary>When the pool stops offering work to workers that keep missing their runs, and for how long.</summary>
public class WorkerBackOffTests
{
    [Fact]
    public void Eight_absences_in_sixteen_runs_start_a_back_off_that_doubles_while_they_go_on()
    {
        var backOff = new WorkerBackOff();

        // Seven absences among sixteen runs, the last seven: not yet.
        for (var run = 0; run < 16; run++)
        {
            Assert.Equal(0, backOff.Record(absent: run >= 9));
        }

        // The eighth within sixteen runs starts the first back-off; the window starts afresh after it.
        Assert.Equal(WorkerBackOff.First, backOff.Record(absent: true));
        for (var run = 0; run < 7; run++)
        {
            Assert.Equal(0, backOff.Record(absent: true));
        }

        Assert.Equal(2 * WorkerBackOff.First, backOff.Record(absent: true));
        for (var doubling = 0; doubling < 10; doubling++)
        {
            var runs = 0;
            for (var run = 0; run < 8; run++)
            {
                runs = backOff.Record(absent: true);
            }

            Assert.Equal(Math.Min(WorkerBackOff.First << (doubling + 2), WorkerBackOff.Longest), runs);
        }
    }

    [Fact]
    public void A_streak_of_present_runs_makes_the_next_back_off_short_again_and_scattered_absences_never_start_one()
    {
        var backOff = new WorkerBackOff();
        for (var run = 0; run < 16; run++)
        {
            backOff.Record(absent: true);
        }

        // Two back-offs so far (at the 8th and 16th absence): the next would be four times the first.
        for (var run = 0; run < WorkerBackOff.PresentToReset - 1; run++)
        {
            Assert.Equal(0, backOff.Record(absent: false));
        }

        // One present run short of the streak: the doubling still holds.
        var runs = 0;
        for (var run = 0; run < 8; run++)
        {
            runs = backOff.Record(absent: true);
        }

        Assert.Equal(4 * WorkerBackOff.First, runs);
        for (var run = 0; run < WorkerBackOff.PresentToReset; run++)
        {
            Assert.Equal(0, backOff.Record(absent: false));
        }

        for (var run = 0; run < 7; run++)
        {
            Assert.Equal(0, backOff.Record(absent: true));
        }

        Assert.Equal(WorkerBackOff.First, backOff.Record(absent: true));

        // One absence in four, for a thousand runs (a good phase's odd late worker is rarer still): never.
        for (var run = 0; run < 1000; run++)
        {
            Assert.Equal(0, backOff.Record(absent: run % 4 == 0));
        }
    }
}
