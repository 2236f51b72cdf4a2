using System.Globalization;
using System.Text;

using AutoGrad.Tensors;

namespace AutoGrad.Autodiff;

/// <summary>The recorded graph as a picture: Graphviz DOT.</summary>
public sealed partial class Tape
{
    /// <summary>
    /// The recorded nodes as a Graphviz DOT graph: one box per node with its op name and output shape, an edge for
    /// each input that needs a gradient, watched inputs shaded blue and <paramref name="output"/> (the loss) orange.
    /// Render it with <c>dot -Tsvg graph.dot -o graph.svg</c>.
    /// </summary>
    /// <param name="output">The node to mark as the output, if any.</param>
    /// <param name="names">Names for tensors (parameters, inputs) to show instead of "Input".</param>
    /// <returns>The DOT text.</returns>
    public string ToDot(Tensor? output = null, IReadOnlyDictionary<Tensor, string>? names = null)
    {
        ThrowIfDisposed("ToDot");
        var outputNode = output is null ? -1 : Track(output, "ToDot");
        var dot = new StringBuilder();
        dot.AppendLine("digraph tape {");
        dot.AppendLine("  rankdir=TB;");
        dot.AppendLine("  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f4f4f4\", fontname=\"Helvetica\", fontsize=11];");
        dot.AppendLine("  edge [color=\"#555555\", arrowsize=0.7];");
        for (var i = 0; i < _count; i++)
        {
            ref readonly var node = ref _nodes[i];
            var isLeaf = node.Op is LeafOp;
            var name = isLeaf && names is not null && names.TryGetValue(node.Output, out var given) ? given : node.Op.Name;
            var fill = i == outputNode ? "#ffcc80" : isLeaf ? "#bbdefb" : "#f4f4f4";
            dot.Append(CultureInfo.InvariantCulture, $"  n{i} [label=\"{Escape(name)}\\n{node.Output.Shape}\", fillcolor=\"{fill}\"];\n");
            foreach (var input in InputNodes(node))
            {
                dot.Append(CultureInfo.InvariantCulture, $"  n{input} -> n{i};\n");
            }
        }

        dot.AppendLine("}");
        return dot.ToString();
    }

    private static IEnumerable<int> InputNodes(Node node)
    {
        if (node.Args.InputNodes is { } many)
        {
            return many.Where(n => n >= 0);
        }

        return new[] { node.InA, node.InB, node.InC }.Where(n => n >= 0);
    }

    private static string Escape(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
