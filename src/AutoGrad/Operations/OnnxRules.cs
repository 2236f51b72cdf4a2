using AutoGrad.Autodiff;
using AutoGrad.Kernels;
using AutoGrad.Tensors;

namespace AutoGrad.Operations;

/// <summary>
/// The pieces ONNX rules share (<see cref="Op.Onnx"/>): one-input operators, scalar constants, and the attributes of
/// windowed ops (convolutions and poolings).
/// </summary>
public static partial class Ops
{
    /// <summary>The ONNX operator <paramref name="opType"/> applied to the node's first input.</summary>
    private static string OnnxUnary(string opType, in Node node, IOnnxGraph graph) => graph.Node(opType, [graph.Value(node.A!)]);

    /// <summary>A binary ONNX operator with numpy broadcasting, as this library's elementwise ops have.</summary>
    private static string OnnxBinary(string opType, in Node node, IOnnxGraph graph) => graph.Node(opType, [graph.Value(node.A!), graph.Value(node.B!)]);

    /// <summary>A one-element constant of <paramref name="like"/>'s element type.</summary>
    private static string OnnxScalar(double value, Tensor like, IOnnxGraph graph) => graph.Constant(Tensor.Full(value, [], like.DType));

    /// <summary>ONNX's kernel_shape, strides, pads (begin H, begin W, end H, end W) and dilations of a window.</summary>
    private static (string Name, object Value)[] OnnxWindow(in WindowGeometry g) =>
    [
        ("kernel_shape", new long[] { g.KernelH, g.KernelW }),
        ("strides", new long[] { g.StrideH, g.StrideW }),
        ("pads", new long[] { g.PadH, g.PadW, g.PadH, g.PadW }),
        ("dilations", new long[] { g.DilationH, g.DilationW }),
    ];
}
