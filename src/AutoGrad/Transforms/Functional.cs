using AutoGrad.Autodiff;
using AutoGrad.Tensors;

namespace AutoGrad.Transforms;

/// <summary>
/// Function transforms, as torch.func and JAX name them: <see cref="Jvp(Func{Tensor, Tensor}, Tensor, Tensor)"/>
/// (forward mode), <see cref="Vjp(Func{Tensor, Tensor}, Tensor)"/> (reverse mode with a pullback), <see cref="Grad(Func{Tensor, Tensor})"/>,
/// <see cref="ValueAndGrad(Func{Tensor, Tensor})"/>, <see cref="Jacobian"/>, <see cref="Hessian"/> and <see cref="Hvp"/>.
/// </summary>
/// <remarks>
/// <para><b>Composition.</b> Called inside a tape's scope, a transform records on that tape, so its results differentiate
/// again there; called inside a <see cref="DualLevel"/>, its results carry that level's tangents. Otherwise it
/// records on a tape of its own and returns owned tensors.</para>
/// <para><b>Functions.</b> A function must compute its output from the tensors it is given, with AutoGrad's ops. One
/// whose output does not depend on its inputs at all is refused, as is a null output.</para>
/// </remarks>
public static partial class Functional
{
    /// <summary>
    /// The Jacobian-vector product in forward mode: f(primal) and its derivative along <paramref name="tangent"/>, from
    /// one pass that carries the tangent beside the value (no tape).
    /// </summary>
    /// <param name="function">The function.</param>
    /// <param name="primal">Where to evaluate it.</param>
    /// <param name="tangent">The direction, of the primal's shape and type.</param>
    /// <returns>The output and its tangent J·v (zeros where the output does not depend on the primal).</returns>
    /// <exception cref="ShapeMismatchException">The tangent's shape or type differs from the primal's.</exception>
    public static (Tensor Output, Tensor Tangent) Jvp(Func<Tensor, Tensor> function, Tensor primal, Tensor tangent)
    {
        ArgumentNullException.ThrowIfNull(function);
        return Jvp(inputs => function(inputs[0]), [primal], [tangent]);
    }

    /// <summary>The Jacobian-vector product of a function of several tensors: Σᵢ Jᵢ·vᵢ, in one forward-mode pass.</summary>
    /// <param name="function">The function.</param>
    /// <param name="primals">Where to evaluate it.</param>
    /// <param name="tangents">One direction per primal, of its shape and type.</param>
    /// <returns>The output and its tangent.</returns>
    /// <exception cref="ArgumentException">The counts differ.</exception>
    /// <exception cref="ShapeMismatchException">A tangent's shape or type differs from its primal's.</exception>
    public static (Tensor Output, Tensor Tangent) Jvp(Func<Tensor[], Tensor> function, Tensor[] primals, Tensor[] tangents)
    {
        ArgumentNullException.ThrowIfNull(function);
        CheckTensors(primals, "Jvp", "primals");
        CheckTensors(tangents, "Jvp", "tangents");
        if (tangents.Length != primals.Length)
        {
            throw new ArgumentException($"Jvp: {tangents.Length} tangents for {primals.Length} primals; give one tangent per primal.", nameof(tangents));
        }

        for (var i = 0; i < primals.Length; i++)
        {
            CheckLike(tangents[i], primals[i], "Jvp", $"tangent {i}", $"primal {i}");
        }

        using var level = new DualLevel();
        var duals = new Tensor[primals.Length];
        for (var i = 0; i < duals.Length; i++)
        {
            duals[i] = level.MakeDual(primals[i], tangents[i]);
        }

        var output = function(duals) ?? throw new InvalidOperationException("Jvp: the function returned null.");
        return (output, level.TangentOf(output) ?? Tensor.ZerosLike(output));
    }

    /// <summary>
    /// The vector-Jacobian product in reverse mode: f(primal), and a pullback that maps a cotangent u (of the output's
    /// shape) to uᵀ·J, as many times as asked. The pullback keeps the function's recorded graph alive.
    /// </summary>
    /// <param name="function">The function.</param>
    /// <param name="primal">Where to evaluate it.</param>
    /// <returns>The output and the pullback.</returns>
    public static (Tensor Output, Func<Tensor, Tensor> Pullback) Vjp(Func<Tensor, Tensor> function, Tensor primal)
    {
        ArgumentNullException.ThrowIfNull(function);
        var (output, pullback) = Vjp(inputs => function(inputs[0]), primal);
        return (output, cotangent => pullback(cotangent)[0]);
    }

    /// <summary>The vector-Jacobian product of a function of several tensors: the pullback gives one gradient per primal.</summary>
    /// <param name="function">The function.</param>
    /// <param name="primals">Where to evaluate it.</param>
    /// <returns>The output and the pullback.</returns>
    public static (Tensor Output, Func<Tensor, Tensor[]> Pullback) Vjp(Func<Tensor[], Tensor> function, params Tensor[] primals)
    {
        ArgumentNullException.ThrowIfNull(function);
        CheckTensors(primals, "Vjp", "primals");
        var scope = new TransformScope("Vjp");
        Tensor[] views;
        Tensor output;
        Tape? kept;
        try
        {
            views = scope.Inputs(primals);
            output = scope.Run(function, views);
            kept = scope.Keep();
        }
        finally
        {
            scope.Dispose();
        }

        var tape = scope.Tape;
        var recordsOnCaller = kept is null;
        Tensor[] Pullback(Tensor cotangent)
        {
            CheckLike(cotangent, output, "Vjp", "the cotangent", "the output");
            if (recordsOnCaller)
            {
                return tape.Gradient(output, views, cotangent, createGraph: true);
            }

            if (!DualLevel.IsActive)
            {
                return tape.Gradient(output, views, cotangent, retainGraph: true);
            }

            return [.. tape.Gradient(output, views, cotangent, createGraph: true).Select(DualLevel.CopyWithTangents)];
        }

        return (recordsOnCaller ? output : DualLevel.CopyWithTangents(output), Pullback);
    }

    /// <summary>The gradient of a function with a one-element output, as a function (JAX's <c>grad</c>).</summary>
    /// <param name="function">The function; its output must have one element.</param>
    /// <returns>x ↦ ∇f(x), of x's shape.</returns>
    public static Func<Tensor, Tensor> Grad(Func<Tensor, Tensor> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return x => ValueAndGradients("Grad", inputs => function(inputs[0]), [x]).Gradients[0];
    }

    /// <summary>The gradients of a function of several tensors with a one-element output, one per input.</summary>
    /// <param name="function">The function; its output must have one element.</param>
    /// <returns>(x₁, …, xₙ) ↦ (∂f/∂x₁, …, ∂f/∂xₙ).</returns>
    public static Func<Tensor[], Tensor[]> Grad(Func<Tensor[], Tensor> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return inputs => ValueAndGradients("Grad", function, inputs).Gradients;
    }

    /// <summary>The value and the gradient of a function with a one-element output, from one forward and one reverse pass.</summary>
    /// <param name="function">The function; its output must have one element.</param>
    /// <returns>x ↦ (f(x), ∇f(x)).</returns>
    public static Func<Tensor, (Tensor Value, Tensor Gradient)> ValueAndGrad(Func<Tensor, Tensor> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return x =>
        {
            var (value, gradients) = ValueAndGradients("ValueAndGrad", inputs => function(inputs[0]), [x]);
            return (value, gradients[0]);
        };
    }

    /// <summary>The value and the gradients of a function of several tensors with a one-element output.</summary>
    /// <param name="function">The function; its output must have one element.</param>
    /// <returns>(x₁, …, xₙ) ↦ (f, (∂f/∂x₁, …, ∂f/∂xₙ)).</returns>
    public static Func<Tensor[], (Tensor Value, Tensor[] Gradients)> ValueAndGrad(Func<Tensor[], Tensor> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return inputs => ValueAndGradients("ValueAndGrad", function, inputs);
    }

    private static (Tensor Value, Tensor[] Gradients) ValueAndGradients(string transform, Func<Tensor[], Tensor> function, Tensor[] inputs)
    {
        CheckTensors(inputs, transform, "inputs");
        using var scope = new TransformScope(transform);
        var views = scope.Inputs(inputs);
        var value = scope.Run(function, views);
        RequireScalar(value, transform);
        var gradients = scope.RecordsGradients
            ? scope.Tape.Gradient(value, views, createGraph: true)
            : scope.Tape.Gradient(value, views);
        return (scope.Escape(value), [.. gradients.Select(scope.Escape)]);
    }

    private static void RequireScalar(Tensor output, string transform)
    {
        if (output.Length != 1)
        {
            throw new ShapeMismatchException(
                $"{transform}: the function must return one element (a loss), but it returned {output.DType.Name()} {output.Shape}; " +
                "use Jacobian for a function with several outputs.");
        }
    }

    private static void CheckTensors(Tensor[] tensors, string transform, string name)
    {
        if (tensors is null)
        {
            throw new ArgumentNullException(name, $"{transform}: {name} is null.");
        }

        for (var i = 0; i < tensors.Length; i++)
        {
            if (tensors[i] is null)
            {
                throw new ArgumentNullException(name, $"{transform}: {name}[{i}] is null.");
            }
        }
    }

    private static void CheckLike(Tensor? tensor, Tensor like, string transform, string what, string likeWhat)
    {
        if (tensor is null)
        {
            throw new ArgumentNullException(nameof(tensor), $"{transform}: {what} is null.");
        }

        if (tensor.Shape != like.Shape || tensor.DType != like.DType)
        {
            throw new ShapeMismatchException(
                $"{transform}: {what} is {tensor.DType.Name()} {tensor.Shape}, but {likeWhat} is {like.DType.Name()} {like.Shape}; they must match.");
        }
    }
}
