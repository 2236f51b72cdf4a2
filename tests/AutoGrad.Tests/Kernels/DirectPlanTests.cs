using System.Runtime.Intrinsics;

using AutoGrad.Kernels;

namespace AutoGrad.Tests.Kernels;

/// <summary>The direct convolution's output segments: every output position reached from exactly one lane.</summary>
public class DirectPlanTests
{
    public static TheoryData<int, int, int, int, int> Layouts => new()
    {
        // side, padding, images side by side, kernel, dilation
        { 28, 1, 3, 3, 1 },
        { 14, 2, 8, 3, 1 },
        { 8, 1, 8, 3, 1 },
        { 5, 0, 1, 5, 1 },
        { 7, 2, 4, 3, 2 },
        { 1, 1, 5, 3, 1 },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Segments_cover_each_output_once_from_the_lane_that_computes_it(int side, int padding, int images, int kernel, int dilation)
    {
        if (!Vector512.IsHardwareAccelerated)
        {
            return;
        }

        Check<float>(side, padding, images, kernel, dilation);
        Check<double>(side, padding, images, kernel, dilation);
    }

    private static void Check<T>(int side, int padding, int images, int kernel, int dilation)
        where T : unmanaged, System.Numerics.INumber<T>
    {
        var g = new WindowGeometry(kernel, kernel, 1, 1, padding, padding, dilation, dilation);
        var plan = new DirectPlan<T>(2, side, side, g, filters: 3, images);
        var starts = new int[plan.Vectors + 1];
        var offsets = new int[plan.SegmentCapacity];
        var masks = new Vector512<T>[plan.SegmentCapacity];
        plan.FillSegments(starts, offsets, masks);

        // Which computed position writes each output (filter 0's plane of each image), by the plan's own geometry.
        var lanes = Vector512<T>.Count;
        var writer = Enumerable.Repeat(-1, images * plan.OutputSize).ToArray();
        for (var v = 0; v < plan.Vectors; v++)
        {
            Assert.True(starts[v] <= starts[v + 1]);
            for (var s = starts[v]; s < starts[v + 1]; s++)
            {
                for (var lane = 0; lane < lanes; lane++)
                {
                    if (masks[s][lane] == T.Zero)
                    {
                        continue;
                    }

                    var output = offsets[s] + lane;
                    int image = output / plan.OutputSize, position = output % plan.OutputSize;
                    Assert.True(position < plan.OutH * plan.OutW, $"lane {lane} of vector {v} lands past filter 0's plane");
                    Assert.Equal(-1, writer[output]);
                    writer[output] = (v * lanes) + lane;

                    // The computed position q = y·Wp + image·(W + p) + x holds output (y, x) of that image.
                    int y = position / plan.OutW, x = position % plan.OutW;
                    Assert.Equal((y * plan.PaddedW) + (image * plan.ImageStride) + x, (v * lanes) + lane);
                }
            }
        }

        for (var image = 0; image < images; image++)
        {
            for (var p = 0; p < plan.OutH * plan.OutW; p++)
            {
                Assert.NotEqual(-1, writer[(image * plan.OutputSize) + p]);
            }
        }
    }
}
