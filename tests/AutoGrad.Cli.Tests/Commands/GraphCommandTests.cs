using System.Xml.Linq;

namespace AutoGrad.Cli.Tests.Commands;

public sealed class GraphCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("autograd-graph-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Writes_the_two_layer_net_as_dot_and_svg()
    {
        var dot = Path.Combine(_folder, "net.dot");
        var (code, output, error) = CliRunner.Run("graph", "--dot", dot);
        Assert.True(code == 0, error);
        var text = File.ReadAllText(dot);
        Assert.Contains("affine1.weight\\n(784, 50)", text);
        Assert.Contains("SoftmaxWithLoss\\n()", text);
        Assert.Equal(8, text.Split("->").Length - 1); // 3 into each Affine, Affine → Relu, Affine → loss

        // .ci/run installs Graphviz, so the picture is drawn there; elsewhere the command says why it is missing.
        var svg = Path.ChangeExtension(dot, ".svg");
        if (File.Exists("/usr/bin/dot"))
        {
            Assert.Contains("wrote " + svg, output);
            var picture = XDocument.Load(svg);
            Assert.Equal("svg", picture.Root!.Name.LocalName);
            Assert.Contains("SoftmaxWithLoss", picture.ToString());
        }
        else
        {
            Assert.Contains("apt-get install graphviz", output);
        }
    }
}
