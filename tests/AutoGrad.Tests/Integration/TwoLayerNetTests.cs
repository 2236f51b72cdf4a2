namespace AutoGrad.Tests.Integration;

/// <summary>
/// The book's two-layer net, 784-50-10 with weights N(0, 0.01²), ReLU and SoftmaxWithLoss, on a batch of 3:
/// backprop through primitive ops, the fused layers and numerical gradients must all agree.
/// </summary>
public class TwoLayerNetTests
{
    private const double WeightStd = 0.01;
    private static readonly int[] s_labels = [3, 7, 1];

    [Fact]
    public void Primitive_fused_and_numerical_gradients_agree()
    {
        var x = Tensor.RandomUniform([3, 784], seed: 1, dtype: DType.Float64);
        var w1 = Tensor.RandomNormal([784, 50], seed: 2, std: WeightStd, dtype: DType.Float64);
        var b1 = Tensor.Zeros([50], DType.Float64);
        var w2 = Tensor.RandomNormal([50, 10], seed: 3, std: WeightStd, dtype: DType.Float64);
        var b2 = Tensor.Zeros([10], DType.Float64);
        Tensor[] parameters = [w1, b1, w2, b2];

        var fused = Gradients(p => Ops.SoftmaxWithLoss(Ops.Affine(Ops.Relu(Ops.Affine(x, p[0], p[1])), p[2], p[3]), s_labels), parameters);
        var primitive = Gradients(
            p =>
            {
                var h = Ops.Relu(Ops.MatMul(x, p[0]) + p[1]);
                var scores = Ops.MatMul(h, p[2]) + p[3];
                return -Ops.Mean(Ops.Gather(Ops.LogSoftmax(scores), s_labels));
            },
            parameters);

        for (var i = 0; i < parameters.Length; i++)
        {
            Assert.InRange(MeanAbsoluteDifference(fused[i], primitive[i]), 0, 1e-8);
            Assert.Contains(fused[i], v => v != 0); // a real gradient, not zeros on both sides
        }

        // The book checks every parameter numerically; W1 has 39,200 elements, so sample it and check the rest whole.
        CheckNumerically(parameters, fused, sampleEvery: 97);
    }

    private static double[][] Gradients(Func<Tensor[], Tensor> loss, Tensor[] parameters)
    {
        using var tape = new Tape();
        foreach (var p in parameters)
        {
            tape.Watch(p);
        }

        return tape.Gradient(loss(parameters), parameters).Select(g => g.ToDoubleArray()).ToArray();
    }

    private static void CheckNumerically(Tensor[] parameters, double[][] analytic, int sampleEvery)
    {
        var x = Tensor.RandomUniform([3, 784], seed: 1, dtype: DType.Float64);
        double Loss() => Ops.SoftmaxWithLoss(Ops.Affine(Ops.Relu(Ops.Affine(x, parameters[0], parameters[1])), parameters[2], parameters[3]), s_labels).ToScalar();
        const double step = 1e-5;
        for (var i = 0; i < parameters.Length; i++)
        {
            var values = parameters[i].AsSpan<double>();
            var stride = values.Length > 1000 ? sampleEvery : 1;
            double total = 0;
            var count = 0;
            for (var k = 0; k < values.Length; k += stride)
            {
                var original = values[k];
                values[k] = original + step;
                var plus = Loss();
                values[k] = original - step;
                var minus = Loss();
                values[k] = original;
                total += Math.Abs(((plus - minus) / (2 * step)) - analytic[i][k]);
                count++;
            }

            Assert.InRange(total / count, 0, 1e-8);
        }
    }

    private static double MeanAbsoluteDifference(double[] a, double[] b) => a.Zip(b, (p, q) => Math.Abs(p - q)).Average();
}
