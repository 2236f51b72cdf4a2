using System.Numerics;

using AutoGrad.Kernels;

namespace AutoGrad;

/// <summary>Anomaly mode's checks (see <see cref="DetectAnomalies"/>).</summary>
public sealed partial class Tape
{
    /// <summary>Throws when a just-recorded output holds a NaN or an infinity.</summary>
    private void CheckForward(Tensor output)
    {
        var bad = output.DType == DType.Float32 ? Reduce.FirstNonFinite<float>(output.Raw<float>()) : Reduce.FirstNonFinite<double>(output.Raw<double>());
        if (bad is { } value)
        {
            var node = output.Node;
            var op = _nodes[node].Op.Name;
            throw new AnomalyException($"Anomaly: {op} (node {node} of the tape) produced {Describe(value)} in its output of shape {output.Shape} during forward.")
            {
                Op = op,
                Node = node,
            };
        }
    }

    /// <summary>Throws when node <paramref name="index"/>'s backward rule left a NaN or an infinity in an input's gradient.</summary>
    private void CheckBackward(int index)
    {
        ref readonly var node = ref _nodes[index];
        var many = node.Args.InputNodes;
        var count = many?.Length ?? 3;
        for (var k = 0; k < count; k++)
        {
            var input = many is not null ? many[k] : k switch { 0 => node.InA, 1 => node.InB, _ => node.InC };
            if (input < 0 || _slots[input].Array is null)
            {
                continue;
            }

            var length = _nodes[input].Output.Length;
            var bad = node.Output.DType == DType.Float32 ? Reduce.FirstNonFinite<float>(Slot<float>(input, length)) : Reduce.FirstNonFinite<double>(Slot<double>(input, length));
            if (bad is { } value)
            {
                throw new AnomalyException(
                    $"Anomaly: the backward rule of {node.Op.Name} (node {index} of the tape) produced {Describe(value)} in the gradient of its input node {input} (shape {_nodes[input].Output.Shape}).")
                {
                    Op = node.Op.Name,
                    Node = index,
                };
            }
        }
    }

    private static string Describe(double value) => double.IsNaN(value) ? "NaN" : value > 0 ? "+∞" : "−∞";
}
