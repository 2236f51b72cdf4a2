using System.Runtime.InteropServices;

using AutoGrad.Autodiff;
using AutoGrad.Nn.Serialization.Proto;
using AutoGrad.Tensors;

using Google.Protobuf;

namespace AutoGrad.Nn.Serialization;

/// <summary>
/// Builds an ONNX graph from a recording of a model's forward pass: each node's ONNX rule (<see cref="Op.Onnx"/>) adds
/// its operators; parameters become initializers under their state-dict names, tensors the recording did not track
/// (buffers, constants folded at record time) become constant initializers, and a second recording at another batch
/// size tells which dimension of each shape is the batch's.
/// </summary>
internal sealed class OnnxGraphBuilder : IOnnxGraph
{
    private readonly GraphProto _graph = new() { Name = "autograd" };
    private readonly Dictionary<Tensor, string> _names = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Tensor, int> _nodeOf = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Tensor, string> _parameterNames;
    private readonly Tape _other;
    private readonly Dictionary<Tensor, Tensor> _otherConstants = new(ReferenceEqualityComparer.Instance);
    private int _next;
    private int _current;
    private Tensor? _input;
    private Tensor? _otherInput;
    private bool _readsInput;
    private int _sampleBatch;
    private string? _batch;

    public OnnxGraphBuilder(int opset, Tape other, IEnumerable<(string Name, Tensor Tensor)> parameters)
    {
        Opset = opset;
        _other = other;
        _parameterNames = new Dictionary<Tensor, string>(ReferenceEqualityComparer.Instance);
        foreach (var (name, tensor) in parameters)
        {
            _parameterNames.TryAdd(tensor, name);
        }
    }

    /// <inheritdoc/>
    public int Opset { get; }

    /// <summary>The graph built so far.</summary>
    public GraphProto Graph => _graph;

    /// <summary>Adds every node of the recording: the input as the graph's input "input", the rest by their rules.</summary>
    public void AddRecording(Tape tape, Tensor input, Tensor output, Tensor otherInput)
    {
        _sampleBatch = input.Shape[0];
        (_input, _otherInput) = (input, otherInput);

        // What depends on the input through the recorded ops (or reads it as ids): the output must, or the graph would
        // ignore its input.
        var follows = new HashSet<Tensor>(ReferenceEqualityComparer.Instance) { input };
        for (var i = 0; i < tape.NodeCount; i++)
        {
            ref readonly var node = ref tape.NodeAt(i);
            _nodeOf[node.Output] = i;
            if (node.Op is not LeafOp)
            {
                _current = i;
                _readsInput = false;
                PairConstants(node, _other.NodeAt(i));
                _names[node.Output] = node.Op.Onnx(node, this);
                if (_readsInput || (node.A is { } a && follows.Contains(a)) || (node.B is { } b && follows.Contains(b))
                    || (node.C is { } c && follows.Contains(c)) || (node.Args.Inputs?.Any(follows.Contains) ?? false))
                {
                    follows.Add(node.Output);
                }
            }
            else if (ReferenceEquals(node.Output, input))
            {
                _names[input] = "input";
                _graph.Input.Add(ValueInfo("input", input));
            }
        }

        if (!follows.Contains(output))
        {
            throw new NotSupportedException(
                "Onnx.Export: the model's output does not depend on its input through recorded ops (the input detached, or its values read as " +
                "numbers), so the graph would ignore its input.");
        }

        _graph.Node.Add(new NodeProto { OpType = "Identity", Input = { Value(output) }, Output = { "output" }, Name = "output" });
        _graph.Output.Add(ValueInfo("output", output));
    }

    /// <summary>
    /// Pairs each input nothing tracked with the same input at the other batch size: a constant whose shape differs
    /// there (an LSTM's zero state, of the batch's size) is written with its shape computed at run time
    /// (<see cref="Value"/>).
    /// </summary>
    private void PairConstants(in Node node, in Node other)
    {
        foreach (var (input, index, otherInput) in (ReadOnlySpan<(Tensor?, int, Tensor?)>)[(node.A, node.InA, other.A), (node.B, node.InB, other.B), (node.C, node.InC, other.C)])
        {
            if (input is null || index >= 0 || otherInput is null)
            {
                continue;
            }

            if (input.Shape != otherInput.Shape)
            {
                _otherConstants[input] = otherInput;
            }
            else if (!input.ToDoubleArray().AsSpan().SequenceEqual(otherInput.ToDoubleArray()))
            {
                // The other recording's input has other values: a constant that follows them was computed from the input
                // outside the recording (its values read as numbers), and would be frozen in the graph.
                throw ComputedFromInput(node);
            }
        }

        if (!node.Args.Scalar.Equals(other.Args.Scalar))
        {
            throw ComputedFromInput(node);
        }
    }

    private static NotSupportedException ComputedFromInput(in Node node) => new(
        $"Onnx.Export: {node.Op.Name} reads a value computed from the input's values outside the recorded ops (read as numbers, " +
        "as indices or a condition), which a graph would freeze at the sample's values.");

    /// <inheritdoc/>
    public Node OtherRecording => _other.NodeAt(_current);

    /// <inheritdoc/>
    public string BatchLinear(long here, long atOther)
    {
        if (here == atOther)
        {
            return Int64s(here);
        }

        // The other recording has one sample more: here = a + k·N and there = a + k·(N + 1).
        var k = atOther - here;
        var a = here - (k * _sampleBatch);
        _batch ??= Node("Gather", [Node("Shape", ["input"]), Int64s(0)], ("axis", 0L));
        var scaled = k == 1 ? _batch : Node("Mul", [_batch, Int64s(k)]);
        return a == 0 ? scaled : Node("Add", [scaled, Int64s(a)]);
    }

    /// <inheritdoc/>
    public string Value(Tensor tensor)
    {
        if (_names.TryGetValue(tensor, out var name))
        {
            return name;
        }

        if (_otherConstants.TryGetValue(tensor, out var other))
        {
            return BatchSizedConstant(tensor, other);
        }

        // A parameter (named as in the state dict) or a tensor nothing tracked: its values, as an initializer.
        name = _parameterNames.TryGetValue(tensor, out var parameter) ? parameter : $"constant_{_next++}";
        _graph.Initializer.Add(TensorProtoOf(name, tensor));
        _names[tensor] = name;
        return name;
    }

    /// <summary>
    /// A constant whose shape grows with the batch: only one whose elements are all equal (a zero state) can be written,
    /// as that value expanded to a shape computed at run time.
    /// </summary>
    private string BatchSizedConstant(Tensor tensor, Tensor other)
    {
        var values = tensor.ToDoubleArray();
        if (tensor.Rank != other.Rank || values.Length == 0 || values.Any(v => !v.Equals(values[0])))
        {
            throw new NotSupportedException(
                $"Onnx.Export: the model reads a constant of shape {tensor.Shape} that is {other.Shape} at another batch size and not one value throughout; a graph with it would serve one batch size only.");
        }

        var dims = tensor.Shape.Dims.ToArray();
        var otherDims = other.Shape.Dims.ToArray();
        var shape = Node("Concat", [.. dims.Select((d, i) => BatchLinear(d, otherDims[i]))], ("axis", 0L));
        var name = Node("Expand", [Constant(Tensor.Full(values[0], [], tensor.DType)), shape]);
        _names[tensor] = name;
        return name;
    }

    /// <inheritdoc/>
    public string Constant(Tensor tensor)
    {
        var name = $"constant_{_next++}";
        _graph.Initializer.Add(TensorProtoOf(name, tensor));
        return name;
    }

    /// <inheritdoc/>
    public string Booleans(BoolTensor mask)
    {
        var name = $"constant_{_next++}";
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Bool };
        proto.Dims.AddRange(mask.Shape.Dims.ToArray().Select(d => (long)d));
        proto.RawData = ByteString.CopyFrom([.. mask.AsReadOnlySpan().ToArray().Select(b => b ? (byte)1 : (byte)0)]);
        _graph.Initializer.Add(proto);
        return name;
    }

    /// <inheritdoc/>
    public string Indices(IntTensor here, IntTensor atOther)
    {
        var ids = here.AsReadOnlySpan();
        if (SameValues(ids, _input!) && SameValues(atOther.AsReadOnlySpan(), _otherInput!))
        {
            _readsInput = true;
            return Node("Reshape", [Node("Cast", ["input"], ("to", (long)TensorProto.Types.DataType.Int64)), Int64s(-1)]);
        }

        if (here.Shape != atOther.Shape || !ids.SequenceEqual(atOther.AsReadOnlySpan()))
        {
            throw new NotSupportedException(
                $"Onnx.Export: {_other.NodeAt(_current).Op.Name} reads ids computed from the input outside the recorded ops, which a graph would freeze at the sample's.");
        }

        return Int64s([.. ids.ToArray().Select(id => (long)id)]);
    }

    /// <summary>Whether the ids are the input's values, element for element.</summary>
    private static bool SameValues(ReadOnlySpan<int> ids, Tensor input)
    {
        var values = input.ToDoubleArray();
        if (values.Length != ids.Length)
        {
            return false;
        }

        for (var i = 0; i < ids.Length; i++)
        {
            if (values[i] != ids[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc/>
    public string Int64s(params long[] values)
    {
        var name = $"constant_{_next++}";
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        proto.Dims.Add(values.Length);
        proto.Int64Data.Add(values);
        _graph.Initializer.Add(proto);
        return name;
    }

    /// <inheritdoc/>
    public long[] ShapeWithBatch(Tensor output)
    {
        var dims = output.Shape.Dims.ToArray();
        var other = OtherShape(output) ?? dims;
        var growing = Enumerable.Range(0, dims.Length).Where(d => dims[d] != other[d]).ToList();
        if (growing.Count > 1)
        {
            throw new NotSupportedException(
                $"Onnx.Export: a shape {Shape.Format(dims)} has {growing.Count} dimensions that change with the batch size ({Shape.Format(other)} at another), so no single −1 can stand for them.");
        }

        return [.. dims.Select((d, i) => growing.Contains(i) ? -1L : d)];
    }

    /// <inheritdoc/>
    public string Node(string opType, IReadOnlyList<string> inputs, params (string Name, object Value)[] attributes)
    {
        var output = $"{opType.ToLowerInvariant()}_{_next++}";
        var node = new NodeProto { OpType = opType, Name = output, Output = { output } };
        node.Input.AddRange(inputs);
        foreach (var (name, value) in attributes)
        {
            node.Attribute.Add(Attribute(name, value));
        }

        _graph.Node.Add(node);
        return output;
    }

    /// <summary>The shape of the same node's output in the recording at the other batch size.</summary>
    private int[]? OtherShape(Tensor tensor) =>
        _nodeOf.TryGetValue(tensor, out var index) && index < _other.NodeCount ? _other.NodeAt(index).Output.Shape.Dims.ToArray() : null;

    /// <summary>A graph input's or output's type: its element type and shape, the batch's dimension named "batch".</summary>
    private ValueInfoProto ValueInfo(string name, Tensor tensor)
    {
        var dims = tensor.Shape.Dims.ToArray();
        var other = OtherShape(tensor) ?? dims;
        var shape = new TensorShapeProto();
        for (var d = 0; d < dims.Length; d++)
        {
            shape.Dim.Add(dims[d] == other[d] ? new TensorShapeProto.Types.Dimension { DimValue = dims[d] } : new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = ElementTypeOf(tensor), Shape = shape } },
        };
    }

    private static int ElementTypeOf(Tensor tensor) => ElementType.Dispatch<OnnxElementType, int>(tensor.DType, default);

    private static TensorProto TensorProtoOf(string name, Tensor tensor)
    {
        var proto = new TensorProto { Name = name, DataType = ElementTypeOf(tensor) };
        proto.Dims.AddRange(tensor.Shape.Dims.ToArray().Select(d => (long)d));
        proto.RawData = ElementType.Dispatch<RawBytes, ByteString>(tensor.DType, new RawBytes(tensor));
        return proto;
    }

    private static AttributeProto Attribute(string name, object value) => value switch
    {
        long i => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = i },
        double f => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = (float)f },
        long[] ints => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints, Ints = { ints } },
        string s => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(s) },
        _ => throw new ArgumentException($"Onnx.Export: attribute {name} has a {value.GetType().Name} value, not long, double, long[] or string.", nameof(value)),
    };

    /// <summary>ONNX's code for an element type: FLOAT or DOUBLE.</summary>
    private readonly struct OnnxElementType : IElementFunction<int>
    {
        public int Run<T>()
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
            (int)(typeof(T) == typeof(float) ? TensorProto.Types.DataType.Float : TensorProto.Types.DataType.Double);
    }

    /// <summary>A tensor's elements as little-endian bytes (ONNX's raw_data).</summary>
    private readonly struct RawBytes(Tensor tensor) : IElementFunction<ByteString>
    {
        public ByteString Run<T>()
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => ByteString.CopyFrom(MemoryMarshal.AsBytes(tensor.AsReadOnlySpan<T>()));
    }
}
