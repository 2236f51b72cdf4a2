using System.Reflection;

using static AutoGrad.Tests.TestData;

namespace AutoGrad.Tests.Operations;

/// <summary>
/// Issue 16: every op whose first argument is a tensor is also a method of the tensor (PyTorch's <c>x.sum()</c>), with
/// the same name, parameters and defaults, and gives the op's result; the list cannot drift from the ops.
/// </summary>
public class TensorMethodTests
{
    private static IEnumerable<MethodInfo> TensorFirstOps() =>
        typeof(Ops).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Where(m => m.GetParameters() is { Length: > 0 } parameters && parameters[0].ParameterType == typeof(Tensor));

    [Fact]
    public void Every_op_on_a_tensor_is_a_method_of_the_tensor_with_the_same_parameters()
    {
        var missing = new List<string>();
        foreach (var op in TensorFirstOps())
        {
            var rest = op.GetParameters()[1..];
            var method = typeof(Tensor).GetMethod(op.Name, BindingFlags.Public | BindingFlags.Instance, [.. rest.Select(p => p.ParameterType)]);
            var same = method is not null && method.ReturnType == op.ReturnType && method.GetParameters().Zip(rest).All(pair =>
                pair.First.Name == pair.Second.Name && pair.First.HasDefaultValue == pair.Second.HasDefaultValue
                && Equals(pair.First.HasDefaultValue ? pair.First.DefaultValue : null, pair.Second.HasDefaultValue ? pair.Second.DefaultValue : null));
            if (!same)
            {
                missing.Add($"{op.ReturnType.Name} {op.Name}({string.Join(", ", rest.Select(p => $"{p.ParameterType.Name} {p.Name}"))})");
            }
        }

        Assert.True(missing.Count == 0, "Ops without their Tensor method (src/AutoGrad/Operations/Tensor.Methods.cs):\n" + string.Join('\n', missing));
    }

    [Fact]
    public void Every_op_the_descriptors_name_is_a_tensor_method_or_takes_no_tensor_first()
    {
        var tensorFirst = TensorFirstOps().Select(m => m.Name).ToHashSet();
        var otherFirst = typeof(Ops).GetMethods(BindingFlags.Public | BindingFlags.Static).Select(m => m.Name).Except(tensorFirst).ToHashSet();
        var methods = typeof(Tensor).GetMethods(BindingFlags.Public | BindingFlags.Instance).Select(m => m.Name).ToHashSet();
        var described = OpCatalog.All.SelectMany(row => row.Names).Distinct().ToList();
        Assert.NotEmpty(described);
        Assert.All(described, name => Assert.True(methods.Contains(name) || otherFirst.Contains(name), $"{name}: described, but neither a Tensor method nor an op on other first arguments"));
    }

    [Fact]
    public void The_methods_give_the_ops_results_and_gradients()
    {
        var x = Normal(1, 2, 3);
        var w = Normal(2, 3, 4);
        Assert.Equal(Ops.Sum(x).ToDoubleArray(), x.Sum().ToDoubleArray());
        Assert.Equal(Ops.Sum(x, axis: 1).ToDoubleArray(), x.Sum(axis: 1).ToDoubleArray());
        Assert.Equal(Ops.MatMul(x, w).ToDoubleArray(), x.MatMul(w).ToDoubleArray());
        Assert.Equal(Ops.Relu(x).ToDoubleArray(), x.Relu().ToDoubleArray());
        Assert.Equal(Ops.Pow(x, 2).ToDoubleArray(), x.Pow(2).ToDoubleArray());
        Assert.Equal(new[] { 2, 3 }, x.Reshape(2, -1).Shape.Dims.ToArray());
        Assert.Equal(Ops.Transpose(x).ToDoubleArray(), x.Transpose().ToDoubleArray());
        Assert.Equal(Ops.Transpose(x).ToDoubleArray(), x.T.ToDoubleArray());
        Assert.Equal(Ops.ArgMax(x, 1).ToArray(), x.ArgMax(1).ToArray());
        Assert.Equal(Ops.Sum(x).ToScalar(), x.Sum().Item());

        // PyTorch's chain, implicitly recorded: d/dw Σ relu(x·w) = xᵀ·[x·w > 0].
        w.RequiresGrad = true;
        x.MatMul(w).Relu().Sum().Backward();
        var expected = Ops.MatMul(Ops.Transpose(x), Ops.Sign(Ops.Relu(Ops.MatMul(x, w.Detach()))));
        AssertClose(expected.ToDoubleArray(), w.Grad!.ToDoubleArray(), 1e-15, 1e-15);
    }

    [Fact]
    public void The_T_property_is_for_matrices_and_Item_for_one_element()
    {
        var error = Assert.Throws<ShapeMismatchException>(() => Tensor.Zeros([2, 3, 4]).T);
        Assert.Contains("T: needs a matrix (rank 2), got shape (2, 3, 4)", error.Message);
        Assert.Throws<InvalidOperationException>(() => Tensor.Zeros([2]).Item());
        Assert.Equal(7.0, Tensor.Scalar(7).Item());
    }
}
