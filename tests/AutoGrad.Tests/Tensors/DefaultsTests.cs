using AutoGrad.Tests.Integration;

namespace AutoGrad.Tests.Tensors;

/// <summary>
/// Issue 16: a settable default element type, and seeds drawn from a global generator that ManualSeed restarts. Both
/// are process-wide, so these tests run alone and put the defaults back.
/// </summary>
[Collection(nameof(RunsAlone))]
public class DefaultsTests
{
    [Fact]
    public void Factories_and_layers_follow_the_default_element_type_when_not_told()
    {
        Assert.Equal(DType.Float32, Tensor.DefaultDType);
        try
        {
            Tensor.DefaultDType = DType.Float64;
            Assert.Equal(DType.Float64, Tensor.Zeros([2]).DType);
            Assert.Equal(DType.Float64, Tensor.RandomNormal([2], seed: 1).DType);
            Assert.Equal(DType.Float64, Tensor.Of(1, 2, 3).DType);
            Assert.Equal(DType.Float64, Tensor.FromArray([1, 2, 3, 4], 2, 2).DType);
            Assert.Equal(DType.Float64, new Linear(2, 3, seed: 1).Weight.DType);
            Assert.Equal(DType.Float32, Tensor.Zeros([2], DType.Float32).DType);

            Tensor.DefaultDType = DType.Float32;
            Assert.Equal(DType.Float32, Tensor.Of(1, 2, 3).DType);
            Assert.Equal(DType.Float32, new Linear(2, 3, seed: 1).Weight.DType);

            // A double array says float64 by its type; asked for float32, its values are rounded.
            Assert.Equal(DType.Float64, Tensor.FromArray([0.1, 0.2]).DType);
            Assert.Equal([0.1f, 0.2f], Tensor.FromArray([0.1, 0.2], DType.Float32).ToFloatArray());
            Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.DefaultDType = (DType)7);
        }
        finally
        {
            Tensor.DefaultDType = DType.Float32;
        }
    }

    [Fact]
    public void ManualSeed_makes_unseeded_factories_and_layers_repeat_and_unseeded_calls_differ()
    {
        try
        {
            Tensor.ManualSeed(42);
            var first = (Tensor.RandomNormal([4]).ToDoubleArray(), new Linear(3, 2).Weight.ToDoubleArray());
            var second = (Tensor.RandomNormal([4]).ToDoubleArray(), new Linear(3, 2).Weight.ToDoubleArray());
            Tensor.ManualSeed(42);
            var again = (Tensor.RandomNormal([4]).ToDoubleArray(), new Linear(3, 2).Weight.ToDoubleArray());

            Assert.Equal(first.Item1, again.Item1);
            Assert.Equal(first.Item2, again.Item2);
            Assert.NotEqual(first.Item1, second.Item1);
            Assert.NotEqual(first.Item2, second.Item2);

            // A given seed ignores the global generator.
            Assert.Equal(Tensor.RandomUniform([3], seed: 5).ToDoubleArray(), Tensor.RandomUniform([3], 5).ToDoubleArray());
        }
        finally
        {
            Tensor.ManualSeed(Tensor.InitialSeed);
        }
    }
}
