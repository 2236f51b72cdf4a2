using AutoGrad.Kernels;

using AutoGrad.Tensors;

namespace AutoGrad.Autodiff;

/// <summary>Anomaly mode's checks (see <see cref="DetectAnomalies"/>).</summary>
public sealed partial class Tape
{
    /// <summary>Throws when a just-recorded output holds a NaN or an infinity.</summary>
    private void CheckForward(Tensor output)
    {
        if (output.FirstNonFinite() is { } value)
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
            if (ElementType.Dispatch<SlotNonFinite, double?>(node.Output.DType, new SlotNonFinite(this, input, length)) is { } value)
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

    /// <summary>The first NaN or infinity in a node's gradient slot, or null.</summary>
    private readonly struct SlotNonFinite(Tape tape, int node, int length) : IElementFunction<double?>
    {
        public double? Run<T>()
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => Reduce.FirstNonFinite<T>(tape.Slot<T>(node, length));
    }

    private static string Describe(double value) => double.IsNaN(value) ? "NaN" : value > 0 ? "+∞" : "−∞";
}
