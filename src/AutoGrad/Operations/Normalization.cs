using System.Numerics;

using AutoGrad.Autodiff;
using AutoGrad.Tensors;

using static AutoGrad.Operations.OpSamples;

using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace AutoGrad.Operations;

/// <summary>
/// Normalization, fused with hand-written backward rules: batch normalization over the channel axis of (N, C) or
/// (N, C, …) inputs, and layer and RMS normalization over the last axis.
/// </summary>
public static partial class Ops
{
    private static readonly Op s_batchNorm = new Op<BatchNormRule>("BatchNorm");
    private static readonly Op s_layerNorm = new Op<LayerNormRule>("LayerNorm");
    private static readonly Op s_rmsNorm = new Op<RmsNormRule>("RmsNorm");

    /// <summary>
    /// Batch normalization with batch statistics, PyTorch's <c>F.batch_norm(training=True)</c>: per channel c,
    /// y = γ·(x − μ)/√(σ² + ε) + β, with μ and the biased σ² over the batch and every position (N·H·W values for
    /// images). When <paramref name="runningMean"/> and <paramref name="runningVariance"/> are given they are updated
    /// in place, r ← (1 − momentum)·r + momentum·batch value, with the unbiased variance, as PyTorch does.
    /// A fused op: with x̂ = (x − μ)/√(σ² + ε) and m values per channel, dβ = Σ g, dγ = Σ g·x̂ and
    /// dx = γ/(m√(σ² + ε))·(m·g − Σ g − x̂·Σ g·x̂), proven equal to the same computation from Mean, Sqrt and the
    /// arithmetic ops. For evaluation with running statistics, compose the arithmetic ops, as the <c>BatchNorm2d</c> module does.
    /// </summary>
    /// <param name="x">The batch, (N, C) or (N, C, …).</param>
    /// <param name="weight">γ, (C,).</param>
    /// <param name="bias">β, (C,).</param>
    /// <param name="epsilon">Added to the variance (positive).</param>
    /// <param name="runningMean">The running mean to update, (C,), or null.</param>
    /// <param name="runningVariance">The running variance to update, (C,), or null.</param>
    /// <param name="momentum">The weight of this batch in the running statistics, in [0, 1].</param>
    /// <returns>The normalized batch, x's shape.</returns>
    /// <exception cref="ArgumentException">A channel has a single value (its variance is undefined).</exception>
    public static Tensor BatchNorm(Tensor x, Tensor weight, Tensor bias, double epsilon = 1e-5, Tensor? runningMean = null, Tensor? runningVariance = null, double momentum = 0.1)
    {
        Check.NotNull(x, "BatchNorm", nameof(x));
        Check.NotNull(weight, "BatchNorm", nameof(weight));
        Check.NotNull(bias, "BatchNorm", nameof(bias));
        Check.SameType(x, weight, "BatchNorm");
        Check.SameType(x, bias, "BatchNorm");
        if (x.Rank < 2)
        {
            throw new ShapeMismatchException($"BatchNorm: x must be (N, C) or (N, C, …), got {x.Shape}.");
        }

        var channels = x.Shape[1];
        RequireChannelVector(weight, "weight", x);
        RequireChannelVector(bias, "bias", x);
        RequireChannelVector(runningMean, "runningMean", x);
        RequireChannelVector(runningVariance, "runningVariance", x);

        if (!(epsilon > 0) || !double.IsFinite(epsilon) || !(momentum is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), $"BatchNorm: epsilon {epsilon} must be positive and momentum {momentum} in [0, 1].");
        }

        var perChannel = x.Length / Math.Max(channels, 1);
        if (perChannel < 2)
        {
            throw new ArgumentException($"BatchNorm: each channel of x {x.Shape} has {perChannel} value; a batch variance needs at least 2.", nameof(x));
        }

        var y = Tensor.Uninitialized(x.DType, x.Shape);

        // The statistics live in the tape's arena, like the op's result: a training step allocates no array for them.
        var state = new BatchNormState(Tensor.Uninitialized(DType.Float64, Shape.FromDims([2, channels], "BatchNorm")), epsilon);
        ElementType.Dispatch(x.DType, new BatchNormForward(x, weight, bias, y, state, runningMean, runningVariance, momentum));
        // The statistics tensor itself is the node's state (ε beside it), so the record allocates nothing.
        Tape.Record(s_batchNorm, y, x, weight, bias, NodeArgs.Of(state.Statistics, epsilon));
        return y;
    }

    /// <summary>BatchNorm from primitives (its composition check and its rule in ops): channels first, statistics per row.</summary>
    private static Tensor ComposedBatchNorm(Tensor x, Tensor weight, Tensor bias, double epsilon)
    {
        int channels = x.Shape[1], rank = x.Rank;
        int[] toChannelsFirst = [1, 0, .. Enumerable.Range(2, rank - 2)];
        var rows = Reshape(Permute(x, toChannelsFirst), channels, -1);
        var centered = rows - Mean(rows, 1, keepDims: true);
        var normalized = centered / Sqrt(Mean(centered * centered, 1, keepDims: true) + epsilon);
        var scaled = (normalized * Reshape(weight, channels, 1)) + Reshape(bias, channels, 1);
        int[] channelsFirstDims = [channels, x.Shape[0], .. x.Shape.Dims[2..]];
        return Permute(Reshape(scaled, channelsFirstDims), toChannelsFirst);
    }

    /// <summary>The per-channel mean (row 0) and 1/√(σ² + ε) (row 1) of the batch, kept for the backward pass, and ε.</summary>
    private readonly record struct BatchNormState(Tensor Statistics, double Epsilon)
    {
        /// <summary>The state as the node keeps it: the statistics as its object, ε as its scalar.</summary>
        public static BatchNormState From(in NodeArgs args) => new(args.State<Tensor>(), args.Scalar);

        public Span<double> Mean => Statistics.Raw<double>()[..Channels];

        public Span<double> InverseStd => Statistics.Raw<double>()[Channels..];

        private int Channels => Statistics.Length / 2;
    }

    private static void RequireChannelVector(Tensor? t, string name, Tensor x)
    {
        if (t is not null && (t.Rank != 1 || t.Length != x.Shape[1] || t.DType != x.DType))
        {
            throw new ShapeMismatchException($"BatchNorm: {name} {t.Shape} ({t.DType.Name()}) must be ({x.Shape[1]},) {x.DType.Name()} for x {x.Shape}.");
        }
    }

    /// <summary>The layout of a (N, C, …) batch: for each image and channel, a contiguous run of <c>Inner</c> values.</summary>
    private static (int Images, int Channels, int Inner) ChannelRuns(Shape x) => (x[0], x[1], x.ElementCount / Math.Max(x[0] * x[1], 1));

    private readonly struct BatchNormForward(Tensor x, Tensor weight, Tensor bias, Tensor y, BatchNormState state, Tensor? runningMean, Tensor? runningVariance, double momentum) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var (images, channels, inner) = ChannelRuns(x.Shape);
            var m = images * inner;
            ReadOnlySpan<T> values = x.Raw<T>(), gamma = weight.Raw<T>(), beta = bias.Raw<T>();
            var output = y.Raw<T>();
            Span<double> means = state.Mean, inverseStds = state.InverseStd;
            for (var c = 0; c < channels; c++)
            {
                // Two passes in float64: the mean, then the squared deviations (no cancellation of E[x²] − E[x]²).
                var sum = 0.0;
                for (var n = 0; n < images; n++)
                {
                    foreach (var v in values.Slice(((n * channels) + c) * inner, inner))
                    {
                        sum += double.CreateTruncating(v);
                    }
                }

                var mean = sum / m;
                var squares = 0.0;
                for (var n = 0; n < images; n++)
                {
                    foreach (var v in values.Slice(((n * channels) + c) * inner, inner))
                    {
                        var d = double.CreateTruncating(v) - mean;
                        squares += d * d;
                    }
                }

                var variance = squares / m;
                var inverseStd = 1 / Math.Sqrt(variance + state.Epsilon);
                means[c] = mean;
                inverseStds[c] = inverseStd;
                double scale = double.CreateTruncating(gamma[c]) * inverseStd, shift = double.CreateTruncating(beta[c]) - (mean * scale);
                for (var n = 0; n < images; n++)
                {
                    var at = ((n * channels) + c) * inner;
                    for (var i = 0; i < inner; i++)
                    {
                        output[at + i] = T.CreateTruncating((double.CreateTruncating(values[at + i]) * scale) + shift);
                    }
                }

                if (runningMean is not null)
                {
                    var r = runningMean.AsSpan<T>();
                    r[c] = T.CreateTruncating(((1 - momentum) * double.CreateTruncating(r[c])) + (momentum * mean));
                }

                if (runningVariance is not null)
                {
                    var r = runningVariance.AsSpan<T>();
                    r[c] = T.CreateTruncating(((1 - momentum) * double.CreateTruncating(r[c])) + (momentum * squares / (m - 1)));
                }
            }
        }
    }

    /// <summary>BatchNorm's rule: per channel, dβ = Σ g, dγ = Σ g·x̂, dx = γ·s/m·(m·g − Σ g − x̂·Σ g·x̂) with s = 1/√(σ² + ε).</summary>
    private readonly struct BatchNormRule : IBackwardRule
    {
        // Per channel over its m values: x̂̇ = s·(ċ − x̂·mean(x̂ ⊙ ċ)) with ċ = ẋ − mean(ẋ), then ẏ = γ·x̂̇ + γ̇·x̂ + β̇.
        public static Tensor Jvp(in Node node, InputTangents tangents)
        {
            var state = BatchNormState.From(node.Args);
            Tensor x = node.A!, weight = node.B!;
            int channels = x.Shape[1], rank = x.Rank;
            int[] toChannelsFirst = [1, 0, .. Enumerable.Range(2, rank - 2)];
            int[] channelsFirstDims = [channels, x.Shape[0], .. x.Shape.Dims[2..]];
            var rows = Reshape(Permute(x, toChannelsFirst), channels, -1);
            var centered = rows - Mean(rows, 1, keepDims: true);
            var inverseStd = Rsqrt(Mean(centered * centered, 1, keepDims: true) + state.Epsilon);
            var normalized = centered * inverseStd;
            Tensor? change = null;
            if (tangents.A is { } tx)
            {
                var t = Reshape(Permute(tx, toChannelsFirst), channels, -1);
                var tc = t - Mean(t, 1, keepDims: true);
                change = Reshape(weight, channels, 1) * inverseStd * (tc - (normalized * Mean(normalized * tc, 1, keepDims: true)));
            }

            if (tangents.B is { } tw)
            {
                var term = Reshape(tw, channels, 1) * normalized;
                change = change is null ? term : change + term;
            }

            if (tangents.C is { } tb)
            {
                var term = Reshape(tb, channels, 1);
                change = change is null ? BroadcastTo(term, rows.Shape.Dims) : change + term;
            }

            return change is null ? Tensor.ZerosLike(node.Output) : Permute(Reshape(change, channelsFirstDims), toChannelsFirst);
        }

        // The same formulas in ops, channels first, so the gradients differentiate again (in x, γ and g).
        public static InputGradients Differentiate(in Node node, Tensor upstream)
        {
            var state = BatchNormState.From(node.Args);
            Tensor x = node.A!, weight = node.B!;
            int channels = x.Shape[1], rank = x.Rank;
            int[] toChannelsFirst = [1, 0, .. Enumerable.Range(2, rank - 2)];
            var rows = Reshape(Permute(x, toChannelsFirst), channels, -1);
            var g = Reshape(Permute(upstream, toChannelsFirst), channels, -1);
            var m = rows.Shape[1];
            var centered = rows - Mean(rows, 1, keepDims: true);
            var inverseStd = Rsqrt(Mean(centered * centered, 1, keepDims: true) + state.Epsilon);
            var normalized = centered * inverseStd;
            var sum = Sum(g, 1, keepDims: true);
            var dot = Sum(g * normalized, 1, keepDims: true);
            Tensor? dx = null;
            if (node.InA >= 0)
            {
                var rowsGradient = Reshape(weight, channels, 1) * inverseStd / m * ((g * m) - sum - (normalized * dot));
                int[] channelsFirstDims = [channels, x.Shape[0], .. x.Shape.Dims[2..]];
                dx = Permute(Reshape(rowsGradient, channelsFirstDims), toChannelsFirst);
            }

            return new(dx, node.InB >= 0 ? Reshape(dot, channels) : null, node.InC >= 0 ? Reshape(sum, channels) : null);
        }

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var state = BatchNormState.From(node.Args);
            ReadOnlySpan<double> means = state.Mean, inverseStds = state.InverseStd;
            Tensor x = node.A!, weight = node.B!;
            var (images, channels, inner) = ChannelRuns(x.Shape);
            var m = images * inner;
            ReadOnlySpan<T> g = tape.Upstream<T>(index), values = x.Raw<T>(), gamma = weight.Raw<T>();
            var dx = node.InA >= 0 ? tape.BeginGradient<T>(node.InA) : default;
            var dGamma = node.InB >= 0 ? tape.BeginGradient<T>(node.InB) : default;
            var dBeta = node.InC >= 0 ? tape.BeginGradient<T>(node.InC) : default;
            for (var c = 0; c < channels; c++)
            {
                double mean = means[c], s = inverseStds[c], sum = 0, dot = 0;
                for (var n = 0; n < images; n++)
                {
                    var at = ((n * channels) + c) * inner;
                    for (var i = 0; i < inner; i++)
                    {
                        var gi = double.CreateTruncating(g[at + i]);
                        sum += gi;
                        dot += gi * (double.CreateTruncating(values[at + i]) - mean) * s;
                    }
                }

                if (node.InB >= 0)
                {
                    dGamma.Span[c] = T.CreateTruncating(dot);
                }

                if (node.InC >= 0)
                {
                    dBeta.Span[c] = T.CreateTruncating(sum);
                }

                if (node.InA >= 0)
                {
                    var k = double.CreateTruncating(gamma[c]) * s / m;
                    for (var n = 0; n < images; n++)
                    {
                        var at = ((n * channels) + c) * inner;
                        for (var i = 0; i < inner; i++)
                        {
                            var xhat = (double.CreateTruncating(values[at + i]) - mean) * s;
                            dx.Span[at + i] = T.CreateTruncating(k * ((m * double.CreateTruncating(g[at + i])) - sum - (xhat * dot)));
                        }
                    }
                }
            }

            if (node.InA >= 0)
            {
                tape.Commit(dx);
            }

            if (node.InB >= 0)
            {
                tape.Commit(dGamma);
            }

            if (node.InC >= 0)
            {
                tape.Commit(dBeta);
            }
        }
    }

    /// <summary>
    /// Layer normalization over the last axis, PyTorch's <c>F.layer_norm(x, (D,), γ, β, ε)</c>: per row of D values,
    /// y = γ·(x − μ)/√(σ² + ε) + β, with μ and the biased σ² of that row. A fused op: with x̂ = (x − μ)/√(σ² + ε)
    /// and ĝ = g·γ, dx = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))/√(σ² + ε), dγ = Σ over rows of g·x̂, dβ = Σ over rows of g,
    /// proven equal to the same computation from Mean, Sqrt and the arithmetic ops.
    /// </summary>
    /// <param name="x">The input, rank at least 1; its last axis is normalized.</param>
    /// <param name="weight">γ, (D,), or null for 1.</param>
    /// <param name="bias">β, (D,), or null for 0.</param>
    /// <param name="epsilon">Added to the variance (positive).</param>
    /// <returns>The normalized input, x's shape.</returns>
    public static Tensor LayerNorm(Tensor x, Tensor? weight = null, Tensor? bias = null, double epsilon = 1e-5) =>
        RowNorm(s_layerNorm, "LayerNorm", x, weight, bias, epsilon);

    /// <summary>
    /// RMS normalization over the last axis (Zhang and Sennrich, 2019; PyTorch's <c>F.rms_norm</c>): per row of D
    /// values, y = γ·x/√(mean(x²) + ε), with no centring and no bias. A fused op: with r = 1/√(mean(x²) + ε) and
    /// ĝ = g·γ, dx = r·(ĝ − x·r²·mean(ĝ·x)), dγ = Σ over rows of g·x·r, proven equal to its composition.
    /// </summary>
    /// <param name="x">The input, rank at least 1; its last axis is normalized.</param>
    /// <param name="weight">γ, (D,), or null for 1.</param>
    /// <param name="epsilon">Added to the mean square (positive).</param>
    /// <returns>The normalized input, x's shape.</returns>
    public static Tensor RmsNorm(Tensor x, Tensor? weight = null, double epsilon = 1e-6) =>
        RowNorm(s_rmsNorm, "RmsNorm", x, weight, null, epsilon);

    private static Tensor RowNorm(Op op, string name, Tensor x, Tensor? weight, Tensor? bias, double epsilon)
    {
        Check.NotNull(x, name, nameof(x));
        if (x.Rank == 0)
        {
            throw new ShapeMismatchException($"{name}: cannot normalize a scalar (shape ()); x needs a last axis.");
        }

        var width = x.Shape[x.Rank - 1];
        RequireRowVector(weight, "weight");
        RequireRowVector(bias, "bias");

        if (!(epsilon > 0) || !double.IsFinite(epsilon))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"{name}: epsilon {epsilon} must be positive and finite.");
        }

        if (width == 0)
        {
            throw new ShapeMismatchException($"{name}: the last axis of x {x.Shape} is empty; there is nothing to normalize over.");
        }

        var rows = x.Length / width;
        var y = Tensor.Uninitialized(x.DType, x.Shape);

        void RequireRowVector(Tensor? t, string label)
        {
            if (t is not null)
            {
                Check.NotNull(t, name, label);
                if (t.Rank != 1 || t.Length != width || t.DType != x.DType)
                {
                    throw new ShapeMismatchException($"{name}: {label} {t.Shape} ({t.DType.Name()}) must be ({width},) {x.DType.Name()} for x {x.Shape}.");
                }
            }
        }

        // Per row, the mean (0 for RmsNorm) and 1/√(variance or mean square + ε), in the tape's arena.
        var statistics = Tensor.Uninitialized(DType.Float64, Shape.FromDims([2, rows], name));
        var centred = ReferenceEquals(op, s_layerNorm);
        ElementType.Dispatch(x.DType, new RowNormForward(x, weight, bias, y, statistics, epsilon, centred));
        var args = NodeArgs.Of(statistics, epsilon);
        Tape.Record(op, y, x, weight, bias, args);
        return y;
    }

    /// <summary>LayerNorm from primitives (its composition check).</summary>
    private static Tensor ComposedLayerNorm(Tensor x, Tensor weight, Tensor bias, double epsilon)
    {
        var centered = x - Mean(x, -1, keepDims: true);
        return (centered / Sqrt(Mean(centered * centered, -1, keepDims: true) + epsilon) * weight) + bias;
    }

    /// <summary>RmsNorm from primitives (its composition check).</summary>
    private static Tensor ComposedRmsNorm(Tensor x, Tensor weight, double epsilon) => x / Sqrt(Mean(x * x, -1, keepDims: true) + epsilon) * weight;

    private readonly struct RowNormForward(Tensor x, Tensor? weight, Tensor? bias, Tensor y, Tensor statistics, double epsilon, bool centred) : IElementAction
    {
        public void Run<T>()
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            ReadOnlySpan<T> values = x.Raw<T>();
            var output = y.Raw<T>();
            var width = x.Shape[x.Rank - 1];
            var rows = values.Length / width;
            var stats = statistics.Raw<double>();

            // Each row in float64 (γ and β too), in pooled buffers: the mean first, then the squared deviations (no
            // cancellation of E[x²] − E[x]²), all in vectors.
            var buffer = System.Buffers.ArrayPool<double>.Shared.Rent(3 * width);
            try
            {
                Span<double> row = buffer.AsSpan(0, width), gamma = weight is null ? default : buffer.AsSpan(width, width), beta = bias is null ? default : buffer.AsSpan(2 * width, width);
                if (weight is not null)
                {
                    TensorPrimitives.ConvertTruncating(weight.Raw<T>(), gamma);
                }

                if (bias is not null)
                {
                    TensorPrimitives.ConvertTruncating(bias.Raw<T>(), beta);
                }

                for (var r = 0; r < rows; r++)
                {
                    TensorPrimitives.ConvertTruncating(values.Slice(r * width, width), row);
                    var mean = centred ? TensorPrimitives.Sum<double>(row) / width : 0;
                    if (centred)
                    {
                        TensorPrimitives.Subtract(row, mean, row);
                    }

                    var inverse = 1 / Math.Sqrt((TensorPrimitives.SumOfSquares<double>(row) / width) + epsilon);
                    stats[r] = mean;
                    stats[rows + r] = inverse;
                    TensorPrimitives.Multiply(row, inverse, row);
                    if (!gamma.IsEmpty)
                    {
                        TensorPrimitives.Multiply(row, gamma, row);
                    }

                    if (!beta.IsEmpty)
                    {
                        TensorPrimitives.Add(row, beta, row);
                    }

                    TensorPrimitives.ConvertTruncating(row, output.Slice(r * width, width));
                }
            }
            finally
            {
                System.Buffers.ArrayPool<double>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>
    /// The rows' gradients of LayerNorm (<paramref name="centred"/>) or RmsNorm: with x̂ the normalized row (x − μ)·s
    /// and ĝ = g·γ, LayerNorm's dx = s·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) and RmsNorm's dx = s·(ĝ − x̂·mean(ĝ·x̂)), since
    /// RmsNorm's μ is 0 and its s does not depend on a mean; dγ = Σ g·x̂ and dβ = Σ g over the rows.
    /// </summary>
    private static void RowNormBackward<T>(Tape tape, int index, in Node node, bool centred)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Tensor x = node.A!, statistics = node.Args.State<Tensor>();
        var width = x.Shape[x.Rank - 1];
        var rows = x.Length / width;
        ReadOnlySpan<T> g = tape.Upstream<T>(index), values = x.Raw<T>(), gamma = node.B is null ? default : node.B.Raw<T>();
        ReadOnlySpan<double> stats = statistics.Raw<double>();
        var dx = node.InA >= 0 ? tape.BeginGradient<T>(node.InA) : default;
        var dGamma = node.InB >= 0 ? tape.BeginGradient<T>(node.InB) : default;
        var dBeta = node.InC >= 0 ? tape.BeginGradient<T>(node.InC) : default;
        // Sums over the rows in float64, in pooled arrays (a training step allocates nothing here).
        var gammaSums = node.InB >= 0 ? System.Buffers.ArrayPool<double>.Shared.Rent(width) : null;
        var betaSums = node.InC >= 0 ? System.Buffers.ArrayPool<double>.Shared.Rent(width) : null;
        gammaSums?.AsSpan(0, width).Clear();
        betaSums?.AsSpan(0, width).Clear();
        var dxs = node.InA >= 0 ? dx.Span : default;

        // Each row in float64, in vectors: g, x̂ and ĝ = g·γ in pooled buffers, γ converted once.
        var buffer = System.Buffers.ArrayPool<double>.Shared.Rent(4 * width);
        try
        {
            Span<double> gd = buffer.AsSpan(0, width), xhat = buffer.AsSpan(width, width), gammaD = buffer.AsSpan(2 * width, width), scratch = buffer.AsSpan(3 * width, width);
            if (!gamma.IsEmpty)
            {
                TensorPrimitives.ConvertTruncating(gamma, gammaD);
            }

            for (var r = 0; r < rows; r++)
            {
                double mean = stats[r], s = stats[rows + r];
                var at = r * width;
                TensorPrimitives.ConvertTruncating(g.Slice(at, width), gd);
                TensorPrimitives.ConvertTruncating(values.Slice(at, width), xhat);
                TensorPrimitives.Subtract(xhat, mean, xhat);
                TensorPrimitives.Multiply(xhat, s, xhat);
                Span<double> ghat = gd;
                if (!gamma.IsEmpty)
                {
                    ghat = scratch;
                    TensorPrimitives.Multiply(gd, gammaD, ghat);
                }

                if (gammaSums is not null)
                {
                    TensorPrimitives.MultiplyAdd(gd, xhat, gammaSums.AsSpan(0, width), gammaSums.AsSpan(0, width));
                }

                if (betaSums is not null)
                {
                    TensorPrimitives.Add(betaSums.AsSpan(0, width), gd, betaSums.AsSpan(0, width));
                }

                if (node.InA >= 0)
                {
                    double meanG = centred ? TensorPrimitives.Sum<double>(ghat) / width : 0, meanDot = TensorPrimitives.Dot<double>(ghat, xhat) / width;

                    // s·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)), in ĝ's buffer (g's own when there is no γ: g is not read again).
                    TensorPrimitives.Subtract(ghat, meanG, ghat);
                    TensorPrimitives.MultiplyAdd(xhat, -meanDot, ghat, ghat);
                    TensorPrimitives.Multiply(ghat, s, ghat);
                    TensorPrimitives.ConvertTruncating(ghat, dxs.Slice(at, width));
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<double>.Shared.Return(buffer);
        }

        if (node.InA >= 0)
        {
            tape.Commit(dx);
        }

        if (gammaSums is not null)
        {
            for (var i = 0; i < width; i++)
            {
                dGamma.Span[i] = T.CreateTruncating(gammaSums[i]);
            }

            tape.Commit(dGamma);
            System.Buffers.ArrayPool<double>.Shared.Return(gammaSums);
        }

        if (betaSums is not null)
        {
            for (var i = 0; i < width; i++)
            {
                dBeta.Span[i] = T.CreateTruncating(betaSums[i]);
            }

            tape.Commit(dBeta);
            System.Buffers.ArrayPool<double>.Shared.Return(betaSums);
        }
    }

    /// <summary>The same rows' gradients in ops, so that they differentiate again (in x, γ and g).</summary>
    private static InputGradients RowNormDifferentiate(in Node node, Tensor upstream, bool centred)
    {
        Tensor x = node.A!;
        var epsilon = node.Args.Scalar;
        var width = x.Shape[x.Rank - 1];
        var centered = centred ? x - Mean(x, -1, keepDims: true) : x;
        var inverse = Rsqrt(Mean(centered * centered, -1, keepDims: true) + epsilon);
        var normalized = centered * inverse;
        var ghat = node.B is null ? upstream : upstream * node.B;
        Tensor? dx = null;
        if (node.InA >= 0)
        {
            var dot = Mean(ghat * normalized, -1, keepDims: true);
            var inner = centred ? ghat - Mean(ghat, -1, keepDims: true) : ghat;
            dx = inverse * (inner - (normalized * dot));
        }

        return new(dx, node.InB >= 0 ? SumTo(upstream * normalized, width) : null, node.InC >= 0 ? SumTo(upstream, width) : null);
    }

    /// <summary>
    /// The rows' forward-mode rule: x̂̇ = s·(ċ − x̂·mean(x̂ ⊙ ċ)) with ċ = ẋ − mean(ẋ) (ẋ itself for RMS norm) and
    /// s = 1/√(mean(c²) + ε), then ẏ = γ ⊙ x̂̇ + γ̇ ⊙ x̂ + β̇.
    /// </summary>
    private static Tensor RowNormJvp(in Node node, InputTangents tangents, bool centred)
    {
        Tensor x = node.A!;
        var centered = centred ? x - Mean(x, -1, keepDims: true) : x;
        var inverse = Rsqrt(Mean(centered * centered, -1, keepDims: true) + node.Args.Scalar);
        var normalized = centered * inverse;
        Tensor? fromInput = null;
        if (tangents.A is { } tx)
        {
            var tc = centred ? tx - Mean(tx, -1, keepDims: true) : tx;
            fromInput = inverse * (tc - (normalized * Mean(normalized * tc, -1, keepDims: true)));
            if (node.B is { } weight)
            {
                fromInput *= weight;
            }
        }

        return TangentSum(node, fromInput, tangents.B is { } tw ? normalized * tw : null, tangents.C);
    }

    private readonly struct LayerNormRule : IBackwardRule
    {
        // Over the last axis; ONNX needs a scale, so a missing γ is a constant of ones.
        public static string? Onnx(in Node node, IOnnxGraph graph)
        {
            var width = node.A!.Shape[-1];
            var scale = node.B is { } weight ? graph.Value(weight) : graph.Constant(Tensor.Ones([width], node.A!.DType));
            string[] inputs = node.C is { } bias ? [graph.Value(node.A!), scale, graph.Value(bias)] : [graph.Value(node.A!), scale];
            return graph.Node("LayerNormalization", inputs, ("axis", -1L), ("epsilon", node.Args.Scalar));
        }

        public static Tensor Jvp(in Node node, InputTangents tangents) => RowNormJvp(node, tangents, centred: true);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => RowNormDifferentiate(node, upstream, centred: true);

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T> => RowNormBackward<T>(tape, index, node, centred: true);
    }

    private readonly struct RmsNormRule : IBackwardRule
    {
        public static Tensor Jvp(in Node node, InputTangents tangents) => RowNormJvp(node, tangents, centred: false);

        public static InputGradients Differentiate(in Node node, Tensor upstream) => RowNormDifferentiate(node, upstream, centred: false);

        public static void Backward<T>(Tape tape, int index, in Node node)
            where T : unmanaged, IFloatingPointIeee754<T> => RowNormBackward<T>(tape, index, node, centred: false);
    }

    /// <summary>The op table's rows for this file's ops, with their gradient checks (see <see cref="OpCatalog"/>).</summary>
    [OpFamily(95)]
    private static IEnumerable<OpInfo> NormalizationRows()
    {
        int[][] shapes = [[6, 3], [4, 3, 5], [2, 3, 4, 5], [1, 2, 3, 3]];
        yield return new OpInfo
        {
            Family = "Normalization",
            Call = "`BatchNorm(x, γ, β, ε, runningMean, runningVariance, momentum)`",
            Forward = "γ·(x − μ)/√(σ² + ε) + β per channel over the batch and positions; running statistics updated",
            Gradient = "dβ = Σ g, dγ = Σ g·x̂, dx = γ/(m√(σ² + ε))·(m·g − Σ g − x̂·Σ g·x̂)",
            Fused = true,
            BadInputs = [
                Bad<ShapeMismatchException>("batchnorm rank", () => BatchNorm(V3, V3, V3), "BatchNorm", "(3,)"),
                Bad<ShapeMismatchException>("batchnorm weight", () => BatchNorm(M23, V2, V3), "BatchNorm", "weight", "(2,)", "(2, 3)"),
                Bad<ArgumentException>("batchnorm one value", () => BatchNorm(Tensor.Zeros([1, 3], DType.Float64), V3, V3), "BatchNorm", "(1, 3)"),
                Bad<ArgumentOutOfRangeException>("batchnorm epsilon", () => BatchNorm(M23, V3, V3, 0), "BatchNorm", "epsilon 0"),
            ],
            CannotGrowBecause = "elementwise",
            Samples = [.. shapes.Select(s => Gradient("BatchNorm", v => BatchNorm(v[0], v[1], v[2]), N(237, s), U(238, 0.5, 1.5, s[1]), N(239, s[1])))],
            Compositions = [.. shapes.Select(s => Composition("BatchNorm", v => BatchNorm(v[0], v[1], v[2]), v => ComposedBatchNorm(v[0], v[1], v[2], 1e-5), N(240, s), U(241, 0.5, 1.5, s[1]), N(242, s[1])))],
        };
        int[][] rowShapes = [[5], [4, 6], [2, 3, 7], [3, 1]];
        yield return new OpInfo
        {
            Family = "Normalization",
            Call = "`LayerNorm(x, γ, β, ε)`",
            Forward = "γ·(x − μ)/√(σ² + ε) + β over each row of the last axis",
            Gradient = "ĝ = g·γ: dx = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))/√(σ² + ε), dγ = Σ g·x̂, dβ = Σ g",
            Fused = true,
            BadInputs = [
                Bad<ShapeMismatchException>("layernorm scalar", () => LayerNorm(Tensor.Scalar(1.0)), "LayerNorm", "()"),
                Bad<ShapeMismatchException>("layernorm weight", () => LayerNorm(M23, V2), "LayerNorm", "weight", "(2,)", "(2, 3)"),
                Bad<ShapeMismatchException>("layernorm bias type", () => LayerNorm(M23, V3, Tensor.Zeros([3])), "LayerNorm", "bias", "float32", "(2, 3)"),
                Bad<ArgumentOutOfRangeException>("layernorm epsilon", () => LayerNorm(M23, epsilon: -1), "LayerNorm", "epsilon -1"),
                Bad<ShapeMismatchException>("layernorm empty", () => LayerNorm(Tensor.Zeros([2, 0], DType.Float64)), "LayerNorm", "(2, 0)"),
            ],
            CannotGrowBecause = "elementwise",
            Samples = [
                .. rowShapes.Select(s => Gradient("LayerNorm", v => LayerNorm(v[0], v[1], v[2]), N(243, s), U(244, 0.5, 1.5, s[^1]), N(245, s[^1]))),
                Gradient("LayerNorm", v => LayerNorm(v[0]) * v[0], N(246, 3, 4)),
            ],
            Compositions = [.. rowShapes.Select(s => Composition("LayerNorm", v => LayerNorm(v[0], v[1], v[2]), v => ComposedLayerNorm(v[0], v[1], v[2], 1e-5), N(247, s), U(248, 0.5, 1.5, s[^1]), N(249, s[^1])))],
        };
        yield return new OpInfo
        {
            Family = "Normalization",
            Call = "`RmsNorm(x, γ, ε)`",
            Forward = "γ·x/√(mean(x²) + ε) over each row of the last axis",
            Gradient = "r = 1/√(mean(x²) + ε), ĝ = g·γ: dx = r·(ĝ − x·r²·mean(ĝ·x)), dγ = Σ g·x·r",
            Fused = true,
            BadInputs = [
                Bad<ShapeMismatchException>("rmsnorm weight", () => RmsNorm(M23, V2), "RmsNorm", "weight", "(2,)", "(2, 3)"),
                Bad<ArgumentOutOfRangeException>("rmsnorm epsilon", () => RmsNorm(M23, epsilon: double.NaN), "RmsNorm", "NaN"),
            ],
            CannotGrowBecause = "elementwise",
            Samples = [
                .. rowShapes.Select(s => Gradient("RmsNorm", v => RmsNorm(v[0], v[1]), N(250, s), U(251, 0.5, 1.5, s[^1]))),
                Gradient("RmsNorm", v => RmsNorm(v[0]) * v[0], N(252, 3, 4)),
            ],
            Compositions = [.. rowShapes.Select(s => Composition("RmsNorm", v => RmsNorm(v[0], v[1]), v => ComposedRmsNorm(v[0], v[1], 1e-6), N(253, s), U(254, 0.5, 1.5, s[^1])))],
        };
    }
}
