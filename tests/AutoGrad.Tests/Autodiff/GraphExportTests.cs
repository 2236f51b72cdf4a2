namespace AutoGrad.Tests.Autodiff;

public class GraphExportTests
{
    [Fact]
    public void Dot_lists_every_node_with_its_shape_edges_for_data_flow_and_marks_inputs_and_loss()
    {
        var x = Tensor.RandomNormal([2, 3], seed: 1);
        var w = Tensor.RandomNormal([3, 4], seed: 2);
        using var tape = new Tape();
        tape.Watch(x);
        tape.Watch(w);
        var loss = Ops.Sum(Ops.Tanh(Ops.MatMul(x, w)));
        var dot = tape.ToDot(loss, new Dictionary<Tensor, string>(ReferenceEqualityComparer.Instance) { [w] = "weight" });

        Assert.StartsWith("digraph tape {", dot);
        Assert.Contains("n0 [label=\"Input\\n(2, 3)\", fillcolor=\"#bbdefb\"]", dot);
        Assert.Contains("n1 [label=\"weight\\n(3, 4)\", fillcolor=\"#bbdefb\"]", dot);
        Assert.Contains("n2 [label=\"MatMul\\n(2, 4)\"", dot);
        Assert.Contains("n3 [label=\"Tanh\\n(2, 4)\"", dot);
        Assert.Contains("n4 [label=\"Sum\\n()\", fillcolor=\"#ffcc80\"]", dot);
        string[] edges = ["n0 -> n2;", "n1 -> n2;", "n2 -> n3;", "n3 -> n4;"];
        Assert.All(edges, e => Assert.Contains(e, dot));
        Assert.Equal(edges.Length, dot.Split("->").Length - 1);
    }
}
