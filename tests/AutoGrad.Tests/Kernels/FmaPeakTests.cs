using System.Runtime.Intrinsics;

using AutoGrad.Kernels;

namespace AutoGrad.Tests.Kernels;

/// <summary>The FMA peak yardstick: its FLOP count, that its chains really compute, and its argument checks.</summary>
public class FmaPeakTests
{
    [Fact]
    public void The_flop_count_is_two_per_lane_per_FMA_of_twelve_chains()
    {
        var lanes = Vector512.IsHardwareAccelerated ? 16 : 8;
        Assert.Equal(lanes, FmaPeak.Lanes);
        Assert.Equal(2.0 * 12 * lanes * 1000, FmaPeak.Flops(1000));
        Assert.Equal(lanes / 2, FmaPeak.DoubleLanes);
        Assert.Equal(2.0 * 12 * (lanes / 2) * 1000, FmaPeak.DoubleFlops(1000));
    }

    [Fact]
    public void The_chains_compute_the_recurrence_they_claim()
    {
        // Each lane of each chain runs a ← 0.9999·a + 1e-4 from 1, which stays at 1 (float rounding aside): the sum
        // over 12 chains of all lanes is 12·lanes; with no trips it is exactly that.
        Assert.Equal(12f * FmaPeak.Lanes, FmaPeak.Run(0));
        Assert.Equal(12f * FmaPeak.Lanes, FmaPeak.Run(1000), 1e-2f);
        Assert.Throws<ArgumentOutOfRangeException>(() => FmaPeak.Run(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => FmaPeak.MeasureGflops(0));

        // The float64 chains run the same recurrence in double, where 1000 trips stay within 1e-9 of 1 a lane.
        Assert.Equal(12.0 * FmaPeak.DoubleLanes, FmaPeak.RunDouble(0));
        Assert.Equal(12.0 * FmaPeak.DoubleLanes, FmaPeak.RunDouble(1000), 1e-9);
        Assert.Throws<ArgumentOutOfRangeException>(() => FmaPeak.RunDouble(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => FmaPeak.MeasureDoubleGflops(0));
    }

    [Fact]
    public void A_measured_peak_is_a_positive_finite_rate()
    {
        // Not a speed claim: CI runs this beside other test processes.
        var gflops = FmaPeak.MeasureGflops(rounds: 2);
        Assert.True(double.IsFinite(gflops) && gflops > 0.1, $"{gflops} GFLOP/s");
        var doubles = FmaPeak.MeasureDoubleGflops(rounds: 2);
        Assert.True(double.IsFinite(doubles) && doubles > 0.05, $"{doubles} GFLOP/s in float64");
    }
}
