using AutoGrad.Tensors;

namespace AutoGrad.Autodiff;

/// <summary>
/// What an op's ONNX rule writes to (<see cref="Op.Onnx"/>): the ONNX graph being built from a recording. The rule sits
/// in its op's file beside the op's other rules; the graph behind this interface (protobuf, initializers, the dynamic
/// batch axis) lives in the Nn layer's exporter.
/// </summary>
internal interface IOnnxGraph
{
    /// <summary>The opset the model declares (17 by default): rules choose among forms by it.</summary>
    int Opset { get; }

    /// <summary>
    /// The name of the ONNX value that holds <paramref name="tensor"/>: the graph's input, an earlier node's output, a
    /// parameter's initializer, or (for a tensor the recording did not track) a constant initializer of its values.
    /// </summary>
    string Value(Tensor tensor);

    /// <summary>An initializer holding <paramref name="tensor"/>'s values in its element type.</summary>
    string Constant(Tensor tensor);

    /// <summary>A boolean initializer (a mask for Where).</summary>
    string Booleans(BoolTensor mask);

    /// <summary>An int64 initializer (shapes, axes, pads).</summary>
    string Int64s(params long[] values);

    /// <summary>
    /// <paramref name="output"/>'s shape with its one dimension that grows with the batch as −1 (for Reshape and
    /// Expand): found by recording the model at two batch sizes. Throws when several dimensions do.
    /// </summary>
    long[] ShapeWithBatch(Tensor output);

    /// <summary>The node being written as it was recorded at the other batch size (same index, same op).</summary>
    Node OtherRecording { get; }

    /// <summary>
    /// A one-element int64 value for an integer argument that is <paramref name="here"/> in this recording and
    /// <paramref name="atOther"/> at the other batch size: a constant when they agree, else a + k·batch computed from
    /// the input's batch size at run time (a row offset t·N, a row count N).
    /// </summary>
    string BatchLinear(long here, long atOther);

    /// <summary>
    /// A one-dimensional int64 value of <paramref name="here"/>'s ids in order: the graph's input cast to integers when
    /// the ids are the input's values (an embedding of float ids; <paramref name="atOther"/> then holds the other
    /// recording's input), else a constant, which must be the same in both recordings.
    /// </summary>
    string Indices(IntTensor here, IntTensor atOther);

    /// <summary>Adds a node and returns the name of its (first) output.</summary>
    /// <param name="opType">The ONNX operator.</param>
    /// <param name="inputs">Its inputs' value names ("" for an omitted optional input).</param>
    /// <param name="attributes">Its attributes: long, double, long[] or string values.</param>
    string Node(string opType, IReadOnlyList<string> inputs, params (string Name, object Value)[] attributes);
}
