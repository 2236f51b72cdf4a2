namespace AutoGrad.Tests.OpFamilies;

/// <summary>Values the descriptors' gradient checks cannot give: each activation against a reference implementation.</summary>
public class ActivationsTests
{
    [Fact]
    public void Gelu_matches_its_definition_in_both_forms()
    {
        // Reference: ½x(1 + erf(x/√2)) and ½x(1 + tanh(√(2/π)(x + 0.044715x³))) in CPython (math.erf, math.tanh), the
        // formulas PyTorch's gelu uses for approximate='none' and 'tanh'.
        (double X, double Exact, double Tanh)[] points =
        [
            (1, 0.8413447460685429, 0.8411919906082768), (-1, -0.15865525393145707, -0.15880800939172324),
            (0.5, 0.34573123063700656, 0.34571400982514394), (3, 2.99595030590511, 2.996362607918227),
            (-3, -0.00404969409489031, -0.0036373920817729943),
        ];
        var x = Tensor.FromArray(points.Select(p => p.X).ToArray());
        var exact = Ops.Gelu(x).ToDoubleArray();
        var tanh = Ops.Gelu(x, tanhApproximation: true).ToDoubleArray();
        for (var i = 0; i < points.Length; i++)
        {
            Assert.Equal(points[i].Exact, exact[i], 1e-15);
            Assert.Equal(points[i].Tanh, tanh[i], 1e-15);
        }

        Assert.Equal(0.8413447f, Ops.Gelu(Tensor.FromArray([1f])).ToFloatArray()[0], 1e-7f);
    }
}
