using System.Text.RegularExpressions;

using AutoGrad.Tensors;

namespace AutoGrad.Operations;

/// <summary>
/// One row of the op table, kept next to the op's code (as PyTorch's OpInfo and derivatives.yaml are): how it is
/// called, its forward and gradient formulas as text, and the float64 samples that check its gradient. The docs'
/// op tables, <c>autograd check</c> and the higher-order tests all read these; see <see cref="OpCatalog"/>.
/// </summary>
public sealed record OpInfo
{
    // A plain Regex, not [GeneratedRegex]: the layer test compiles these sources without source generators.
    private static readonly Regex s_opCall = new(@"`([A-Z][A-Za-z0-9]+)\(", RegexOptions.CultureInvariant);

    /// <summary>The family: the file under <c>src/AutoGrad/Operations</c> (without <c>.cs</c>) that holds the op's code.</summary>
    public required string Family { get; init; }

    /// <summary>How it is called, as the table's first column shows it: <c>`Add(a, b)`, `a + b`</c>.</summary>
    public required string Call { get; init; }

    /// <summary>The forward formula, as text.</summary>
    public required string Forward { get; init; }

    /// <summary>The gradient (vector-Jacobian product) formula, as text; g is the upstream gradient, y the output.</summary>
    public required string Gradient { get; init; }

    /// <summary>A fused layer with a hand-written backward rule (bold in the table), checked against <see cref="Compositions"/>.</summary>
    public bool Fused { get; init; }

    /// <summary>Whether the op's backward rule, written in ops, can itself be differentiated (checked by the higher-order tests).</summary>
    public bool TwiceDifferentiable { get; init; } = true;

    /// <summary>Gradient checks: the op at several shapes, with inputs in its valid domain, against finite differences.</summary>
    public IReadOnlyList<OpSample> Samples { get; init; } = [];

    /// <summary>For a query that is not differentiable (a comparison, <c>ArgMax</c>): its results on hand-worked inputs.</summary>
    public IReadOnlyList<OpValueCheck> Values { get; init; } = [];

    /// <summary>For a fused op: the same computation from primitives, whose gradients must agree to 1e-12.</summary>
    public IReadOnlyList<OpSample> Compositions { get; init; } = [];

    /// <summary>Calls with bad input, each of which must throw the library's own exception naming the op and the offending shapes or values.</summary>
    public IReadOnlyList<OpBadInput> BadInputs { get; init; } = [];

    /// <summary>Calls whose result would hold more than <see cref="Array.MaxLength"/> elements (the shape exception, not a crash).</summary>
    public IReadOnlyList<OpBadInput> Overflows { get; init; } = [];

    /// <summary>Why no input can make the op's result larger than an input (elementwise, a reduction, …), where <see cref="Overflows"/> is empty.</summary>
    public string? CannotGrowBecause { get; init; }

    /// <summary>The public <see cref="Ops"/> methods the row covers: every <c>`Name(</c> of <see cref="Call"/>.</summary>
    public IReadOnlyList<string> Names => [.. s_opCall.Matches(Call).Select(m => m.Groups[1].Value)];

    /// <summary>The row as the Markdown op table shows it.</summary>
    public string TableRow => $"| {(Fused ? $"**{Call}**" : Call)} | {Forward} | {Gradient} |";
}

/// <summary>One check of an op: a float64 computation and fresh inputs for it.</summary>
/// <param name="Op">The op under test, as reports name it.</param>
/// <param name="Shapes">The inputs' shapes (and what is compared), for reports.</param>
/// <param name="Function">The computation under test.</param>
/// <param name="Inputs">Makes the inputs, fresh each call, in the op's valid domain.</param>
/// <param name="Composed">For a fused op's composition check: the same computation from primitives; otherwise null.</param>
public sealed record OpSample(string Op, string Shapes, Func<Tensor[], Tensor> Function, Func<Tensor[]> Inputs, Func<Tensor[], Tensor>? Composed = null);

/// <summary>A query's result on one hand-worked input, compared as text (values, shape and type print exactly for integers and booleans).</summary>
/// <param name="Op">The op under test.</param>
/// <param name="Case">What the input exercises (ties, NaN, broadcasting), for reports.</param>
/// <param name="Actual">Runs the op and formats its result.</param>
/// <param name="Expected">The result worked out by hand.</param>
public sealed record OpValueCheck(string Op, string Case, Func<string> Actual, string Expected);

/// <summary>A call an op must refuse, and what its exception must say.</summary>
/// <param name="Description">What is wrong, for reports.</param>
/// <param name="Exception">The exact exception type.</param>
/// <param name="Call">The call.</param>
/// <param name="MessageFragments">Texts the message must contain: the op's name first, then the shapes or values.</param>
public sealed record OpBadInput(string Description, Type Exception, Func<object> Call, params string[] MessageFragments);

/// <summary>Marks a private static method of <see cref="Ops"/> that returns a family's <see cref="OpInfo"/> rows, in table order.</summary>
/// <param name="order">Where the family's rows go in the table (the families are numbered in tens, so a new one fits between).</param>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class OpFamilyAttribute(int order) : Attribute
{
    public int Order { get; } = order;
}
