using AutoGrad.Kernels;

namespace AutoGrad.Tests.Kernels;

/// <summary>The inlined line copies and sums, at every length around the vector widths, against the plain loop.</summary>
public class LinesTests
{
    [Fact]
    public void Lines_copy_and_add_every_length_from_0_to_70_in_both_element_types()
    {
        for (var n = 0; n <= 70; n++)
        {
            var source = Enumerable.Range(0, n).Select(i => (float)(i * 1.5)).ToArray();
            var copy = Enumerable.Repeat(-1f, n + 1).ToArray();
            Lines.Copy<float>(source, copy.AsSpan(0, n));
            Assert.Equal(source.Append(-1f), copy);

            var sums = Enumerable.Range(0, n + 1).Select(i => (double)(100 * i)).ToArray();
            Lines.Add<double>(source.Select(v => (double)v).ToArray(), sums.AsSpan(0, n));
            Assert.Equal(Enumerable.Range(0, n).Select(i => (100.0 * i) + (i * 1.5)).Append(100.0 * n), sums);
        }

        Assert.Throws<ArgumentException>(() => Lines.Copy<float>(new float[3], new float[4]));
    }
}
