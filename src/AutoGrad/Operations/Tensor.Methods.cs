using AutoGrad.Operations;

namespace AutoGrad.Tensors;

/// <summary>
/// Every op of <see cref="Ops"/> whose first argument is a tensor, as a method of that tensor with the same name and
/// the other parameters (PyTorch's <c>x.sum()</c>, <c>x.matmul(w)</c>): <c>x.Sum(axis: 1)</c> is
/// <c>Ops.Sum(x, axis: 1)</c>. The list is written from the ops by reflection and a test keeps the two equal
/// (<c>TensorMethodTests</c>), so an op added to <see cref="Ops"/> without its method here fails the build's tests.
/// </summary>
public sealed partial class Tensor
{
    /// <summary>The matrix transposed, PyTorch's <c>x.T</c>: <see cref="Ops.Transpose(Tensor)"/> of a rank-2 tensor.</summary>
    /// <exception cref="ShapeMismatchException">The tensor is not a matrix.</exception>
    public Tensor T => Rank == 2
        ? Ops.Transpose(this)
        : throw new ShapeMismatchException($"T: needs a matrix (rank 2), got shape {Shape}; use Transpose(axis0, axis1) or Permute for other ranks.");

    /// <summary>The value of a one-element tensor, PyTorch's <c>x.item()</c> (the same as <see cref="ToScalar"/>).</summary>
    /// <returns>The value, converted to <see cref="double"/>.</returns>
    /// <exception cref="InvalidOperationException">The tensor has more or fewer than one element.</exception>
    public double Item() => ToScalar();

    /// <inheritdoc cref="Ops.Abs(Tensor)"/>
    public Tensor Abs() => Ops.Abs(this);

    /// <inheritdoc cref="Ops.AdaptiveAvgPool2d(Tensor, Size2d)"/>
    public Tensor AdaptiveAvgPool2d(Size2d outputSize) => Ops.AdaptiveAvgPool2d(this, outputSize);

    /// <inheritdoc cref="Ops.Add(Tensor, double)"/>
    public Tensor Add(double s) => Ops.Add(this, s);

    /// <inheritdoc cref="Ops.Add(Tensor, Tensor)"/>
    public Tensor Add(Tensor b) => Ops.Add(this, b);

    /// <inheritdoc cref="Ops.Affine(Tensor, Tensor, Tensor)"/>
    public Tensor Affine(Tensor weight, Tensor bias) => Ops.Affine(this, weight, bias);

    /// <inheritdoc cref="Ops.ArgMax(Tensor, int?, bool)"/>
    public IntTensor ArgMax(int? axis = null, bool keepDims = false) => Ops.ArgMax(this, axis, keepDims);

    /// <inheritdoc cref="Ops.ArgMin(Tensor, int?, bool)"/>
    public IntTensor ArgMin(int? axis = null, bool keepDims = false) => Ops.ArgMin(this, axis, keepDims);

    /// <inheritdoc cref="Ops.AvgPool2d(Tensor, Size2d, Size2d?, Size2d?, bool)"/>
    public Tensor AvgPool2d(Size2d kernel, Size2d? stride = null, Size2d? padding = null, bool countIncludePad = true) => Ops.AvgPool2d(this, kernel, stride, padding, countIncludePad);

    /// <inheritdoc cref="Ops.BatchNorm(Tensor, Tensor, Tensor, double, Tensor, Tensor, double)"/>
    public Tensor BatchNorm(Tensor weight, Tensor bias, double epsilon = 1e-5, Tensor? runningMean = null, Tensor? runningVariance = null, double momentum = 0.1) => Ops.BatchNorm(this, weight, bias, epsilon, runningMean, runningVariance, momentum);

    /// <inheritdoc cref="Ops.BroadcastTo(Tensor, ReadOnlySpan{int})"/>
    public Tensor BroadcastTo(params ReadOnlySpan<int> shape) => Ops.BroadcastTo(this, shape);

    /// <inheritdoc cref="Ops.Chunk(Tensor, int, int)"/>
    public Tensor[] Chunk(int chunks, int axis = 0) => Ops.Chunk(this, chunks, axis);

    /// <inheritdoc cref="Ops.Clamp(Tensor, double, double)"/>
    public Tensor Clamp(double min, double max) => Ops.Clamp(this, min, max);

    /// <inheritdoc cref="Ops.Col2Im(Tensor, Size2d, Size2d, Size2d?, Size2d?, Size2d?)"/>
    public Tensor Col2Im(Size2d outputSize, Size2d kernel, Size2d? stride = null, Size2d? padding = null, Size2d? dilation = null) => Ops.Col2Im(this, outputSize, kernel, stride, padding, dilation);

    /// <inheritdoc cref="Ops.Conv1d(Tensor, Tensor, Tensor, int, int, int, int)"/>
    public Tensor Conv1d(Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1) => Ops.Conv1d(this, weight, bias, stride, padding, dilation, groups);

    /// <inheritdoc cref="Ops.Conv2d(Tensor, Tensor, Tensor, Size2d?, Size2d?, Size2d?, int)"/>
    public Tensor Conv2d(Tensor weight, Tensor? bias = null, Size2d? stride = null, Size2d? padding = null, Size2d? dilation = null, int groups = 1) => Ops.Conv2d(this, weight, bias, stride, padding, dilation, groups);

    /// <inheritdoc cref="Ops.Conv2dMaxPool2d(Tensor, Tensor, Tensor, Size2d, Size2d?, Size2d?, Size2d?, int)"/>
    public Tensor Conv2dMaxPool2d(Tensor weight, Tensor? bias, Size2d pool, Size2d? stride = null, Size2d? padding = null, Size2d? dilation = null, int groups = 1) =>
        Ops.Conv2dMaxPool2d(this, weight, bias, pool, stride, padding, dilation, groups);

    /// <inheritdoc cref="Ops.ConvTranspose2d(Tensor, Tensor, Tensor, Size2d?, Size2d?, Size2d?, Size2d?, int)"/>
    public Tensor ConvTranspose2d(Tensor weight, Tensor? bias = null, Size2d? stride = null, Size2d? padding = null, Size2d? outputPadding = null, Size2d? dilation = null, int groups = 1) => Ops.ConvTranspose2d(this, weight, bias, stride, padding, outputPadding, dilation, groups);

    /// <inheritdoc cref="Ops.Cos(Tensor)"/>
    public Tensor Cos() => Ops.Cos(this);

    /// <inheritdoc cref="Ops.CrossEntropyError(Tensor, ReadOnlyMemory{int})"/>
    public Tensor CrossEntropyError(ReadOnlyMemory<int> labels) => Ops.CrossEntropyError(this, labels);

    /// <inheritdoc cref="Ops.CrossEntropyError(Tensor, Tensor)"/>
    public Tensor CrossEntropyError(Tensor target) => Ops.CrossEntropyError(this, target);

    /// <inheritdoc cref="Ops.Divide(Tensor, double)"/>
    public Tensor Divide(double s) => Ops.Divide(this, s);

    /// <inheritdoc cref="Ops.Divide(Tensor, Tensor)"/>
    public Tensor Divide(Tensor b) => Ops.Divide(this, b);

    /// <inheritdoc cref="Ops.Elu(Tensor, double)"/>
    public Tensor Elu(double alpha = 1) => Ops.Elu(this, alpha);

    /// <inheritdoc cref="Ops.Embedding(Tensor, IntTensor)"/>
    public Tensor Embedding(IntTensor ids) => Ops.Embedding(this, ids);

    /// <inheritdoc cref="Ops.Equal(Tensor, double)"/>
    public BoolTensor Equal(double s) => Ops.Equal(this, s);

    /// <inheritdoc cref="Ops.Equal(Tensor, Tensor)"/>
    public BoolTensor Equal(Tensor b) => Ops.Equal(this, b);

    /// <inheritdoc cref="Ops.Erf(Tensor)"/>
    public Tensor Erf() => Ops.Erf(this);

    /// <inheritdoc cref="Ops.Exp(Tensor)"/>
    public Tensor Exp() => Ops.Exp(this);

    /// <inheritdoc cref="Ops.Expm1(Tensor)"/>
    public Tensor Expm1() => Ops.Expm1(this);

    /// <inheritdoc cref="Ops.Flatten(Tensor, int, int)"/>
    public Tensor Flatten(int startAxis = 1, int endAxis = -1) => Ops.Flatten(this, startAxis, endAxis);

    /// <inheritdoc cref="Ops.Gather(Tensor, ReadOnlyMemory{int})"/>
    public Tensor Gather(ReadOnlyMemory<int> labels) => Ops.Gather(this, labels);

    /// <inheritdoc cref="Ops.Gelu(Tensor, bool)"/>
    public Tensor Gelu(bool tanhApproximation = false) => Ops.Gelu(this, tanhApproximation);

    /// <inheritdoc cref="Ops.Greater(Tensor, double)"/>
    public BoolTensor Greater(double s) => Ops.Greater(this, s);

    /// <inheritdoc cref="Ops.Greater(Tensor, Tensor)"/>
    public BoolTensor Greater(Tensor b) => Ops.Greater(this, b);

    /// <inheritdoc cref="Ops.GruCell(Tensor, Tensor, Tensor, Tensor, Tensor, Tensor)"/>
    public Tensor GruCell(Tensor h, Tensor inputWeight, Tensor hiddenWeight, Tensor inputBias, Tensor hiddenBias) => Ops.GruCell(this, h, inputWeight, hiddenWeight, inputBias, hiddenBias);

    /// <inheritdoc cref="Ops.GruGates(Tensor, Tensor, Tensor)"/>
    public Tensor GruGates(Tensor hiddenGates, Tensor h) => Ops.GruGates(this, hiddenGates, h);

    /// <inheritdoc cref="Ops.HardTanh(Tensor, double, double)"/>
    public Tensor HardTanh(double min = -1, double max = 1) => Ops.HardTanh(this, min, max);

    /// <inheritdoc cref="Ops.Im2Col(Tensor, Size2d, Size2d?, Size2d?, Size2d?)"/>
    public Tensor Im2Col(Size2d kernel, Size2d? stride = null, Size2d? padding = null, Size2d? dilation = null) => Ops.Im2Col(this, kernel, stride, padding, dilation);

    /// <inheritdoc cref="Ops.IndexSelect(Tensor, int, IntTensor)"/>
    public Tensor IndexSelect(int axis, IntTensor indices) => Ops.IndexSelect(this, axis, indices);

    /// <inheritdoc cref="Ops.LayerNorm(Tensor, Tensor, Tensor, double)"/>
    public Tensor LayerNorm(Tensor? weight = null, Tensor? bias = null, double epsilon = 1e-5) => Ops.LayerNorm(this, weight, bias, epsilon);

    /// <inheritdoc cref="Ops.LeakyRelu(Tensor, double)"/>
    public Tensor LeakyRelu(double slope = 0.01) => Ops.LeakyRelu(this, slope);

    /// <inheritdoc cref="Ops.Less(Tensor, double)"/>
    public BoolTensor Less(double s) => Ops.Less(this, s);

    /// <inheritdoc cref="Ops.Less(Tensor, Tensor)"/>
    public BoolTensor Less(Tensor b) => Ops.Less(this, b);

    /// <inheritdoc cref="Ops.Log(Tensor)"/>
    public Tensor Log() => Ops.Log(this);

    /// <inheritdoc cref="Ops.Log1p(Tensor)"/>
    public Tensor Log1p() => Ops.Log1p(this);

    /// <inheritdoc cref="Ops.LogSoftmax(Tensor, int)"/>
    public Tensor LogSoftmax(int axis = -1) => Ops.LogSoftmax(this, axis);

    /// <inheritdoc cref="Ops.LogSumExp(Tensor, int?, bool)"/>
    public Tensor LogSumExp(int? axis = null, bool keepDims = false) => Ops.LogSumExp(this, axis, keepDims);

    /// <inheritdoc cref="Ops.LstmCell(Tensor, Tensor, Tensor, Tensor, Tensor, Tensor)"/>
    public Tensor[] LstmCell(Tensor h, Tensor c, Tensor inputWeight, Tensor hiddenWeight, Tensor bias) => Ops.LstmCell(this, h, c, inputWeight, hiddenWeight, bias);

    /// <inheritdoc cref="Ops.LstmGates(Tensor, Tensor)"/>
    public Tensor LstmGates(Tensor c) => Ops.LstmGates(this, c);

    /// <inheritdoc cref="Ops.MaskedFill(Tensor, BoolTensor, double)"/>
    public Tensor MaskedFill(BoolTensor mask, double value) => Ops.MaskedFill(this, mask, value);

    /// <inheritdoc cref="Ops.MatMul(Tensor, Tensor)"/>
    public Tensor MatMul(Tensor b) => Ops.MatMul(this, b);

    /// <inheritdoc cref="Ops.Max(Tensor, int?, bool)"/>
    public Tensor Max(int? axis = null, bool keepDims = false) => Ops.Max(this, axis, keepDims);

    /// <inheritdoc cref="Ops.MaxPool2d(Tensor, Size2d, Size2d?, Size2d?)"/>
    public Tensor MaxPool2d(Size2d kernel, Size2d? stride = null, Size2d? padding = null) => Ops.MaxPool2d(this, kernel, stride, padding);

    /// <inheritdoc cref="Ops.Maximum(Tensor, Tensor)"/>
    public Tensor Maximum(Tensor b) => Ops.Maximum(this, b);

    /// <inheritdoc cref="Ops.Mean(Tensor, int?, bool)"/>
    public Tensor Mean(int? axis = null, bool keepDims = false) => Ops.Mean(this, axis, keepDims);

    /// <inheritdoc cref="Ops.MeanSquaredError(Tensor, Tensor)"/>
    public Tensor MeanSquaredError(Tensor target) => Ops.MeanSquaredError(this, target);

    /// <inheritdoc cref="Ops.Min(Tensor, int?, bool)"/>
    public Tensor Min(int? axis = null, bool keepDims = false) => Ops.Min(this, axis, keepDims);

    /// <inheritdoc cref="Ops.Minimum(Tensor, Tensor)"/>
    public Tensor Minimum(Tensor b) => Ops.Minimum(this, b);

    /// <inheritdoc cref="Ops.Mish(Tensor)"/>
    public Tensor Mish() => Ops.Mish(this);

    /// <inheritdoc cref="Ops.Multiply(Tensor, double)"/>
    public Tensor Multiply(double s) => Ops.Multiply(this, s);

    /// <inheritdoc cref="Ops.Multiply(Tensor, Tensor)"/>
    public Tensor Multiply(Tensor b) => Ops.Multiply(this, b);

    /// <inheritdoc cref="Ops.Narrow(Tensor, int, int, int)"/>
    public Tensor Narrow(int axis, int start, int length) => Ops.Narrow(this, axis, start, length);

    /// <inheritdoc cref="Ops.Negate(Tensor)"/>
    public Tensor Negate() => Ops.Negate(this);

    /// <inheritdoc cref="Ops.Pad(Tensor, ReadOnlySpan{int}, double)"/>
    public Tensor Pad(ReadOnlySpan<int> padding, double value = 0) => Ops.Pad(this, padding, value);

    /// <inheritdoc cref="Ops.Permute(Tensor, ReadOnlySpan{int})"/>
    public Tensor Permute(params ReadOnlySpan<int> perm) => Ops.Permute(this, perm);

    /// <inheritdoc cref="Ops.Pow(Tensor, double)"/>
    public Tensor Pow(double exponent) => Ops.Pow(this, exponent);

    /// <inheritdoc cref="Ops.Prod(Tensor, int?, bool)"/>
    public Tensor Prod(int? axis = null, bool keepDims = false) => Ops.Prod(this, axis, keepDims);

    /// <inheritdoc cref="Ops.Reciprocal(Tensor)"/>
    public Tensor Reciprocal() => Ops.Reciprocal(this);

    /// <inheritdoc cref="Ops.Relu(Tensor)"/>
    public Tensor Relu() => Ops.Relu(this);

    /// <inheritdoc cref="Ops.Repeat(Tensor, ReadOnlySpan{int})"/>
    public Tensor Repeat(params ReadOnlySpan<int> repeats) => Ops.Repeat(this, repeats);

    /// <inheritdoc cref="Ops.Reshape(Tensor, ReadOnlySpan{int})"/>
    public Tensor Reshape(params ReadOnlySpan<int> shape) => Ops.Reshape(this, shape);

    /// <inheritdoc cref="Ops.RmsNorm(Tensor, Tensor, double)"/>
    public Tensor RmsNorm(Tensor? weight = null, double epsilon = 1e-6) => Ops.RmsNorm(this, weight, epsilon);

    /// <inheritdoc cref="Ops.Rsqrt(Tensor)"/>
    public Tensor Rsqrt() => Ops.Rsqrt(this);

    /// <inheritdoc cref="Ops.ScaledDotProductAttention(Tensor, Tensor, Tensor, BoolTensor, bool, double?)"/>
    public Tensor ScaledDotProductAttention(Tensor k, Tensor v, BoolTensor? mask = null, bool isCausal = false, double? scale = null) => Ops.ScaledDotProductAttention(this, k, v, mask, isCausal, scale);

    /// <inheritdoc cref="Ops.Selu(Tensor)"/>
    public Tensor Selu() => Ops.Selu(this);

    /// <inheritdoc cref="Ops.Sigmoid(Tensor)"/>
    public Tensor Sigmoid() => Ops.Sigmoid(this);

    /// <inheritdoc cref="Ops.SigmoidWithLoss(Tensor, Tensor)"/>
    public Tensor SigmoidWithLoss(Tensor target) => Ops.SigmoidWithLoss(this, target);

    /// <inheritdoc cref="Ops.Sign(Tensor)"/>
    public Tensor Sign() => Ops.Sign(this);

    /// <inheritdoc cref="Ops.Silu(Tensor)"/>
    public Tensor Silu() => Ops.Silu(this);

    /// <inheritdoc cref="Ops.Sin(Tensor)"/>
    public Tensor Sin() => Ops.Sin(this);

    /// <inheritdoc cref="Ops.Slice(Tensor, int, int)"/>
    public Tensor Slice(int start, int length) => Ops.Slice(this, start, length);

    /// <inheritdoc cref="Ops.Softmax(Tensor, int)"/>
    public Tensor Softmax(int axis = -1) => Ops.Softmax(this, axis);

    /// <inheritdoc cref="Ops.SoftmaxWithLoss(Tensor, ReadOnlyMemory{int})"/>
    public Tensor SoftmaxWithLoss(ReadOnlyMemory<int> labels) => Ops.SoftmaxWithLoss(this, labels);

    /// <inheritdoc cref="Ops.SoftmaxWithLoss(Tensor, Tensor)"/>
    public Tensor SoftmaxWithLoss(Tensor target) => Ops.SoftmaxWithLoss(this, target);

    /// <inheritdoc cref="Ops.SoftmaxWithLoss(Tensor, ReadOnlyMemory{int}, int)"/>
    public Tensor SoftmaxWithLoss(ReadOnlyMemory<int> labels, int ignoreLabel) => Ops.SoftmaxWithLoss(this, labels, ignoreLabel);

    /// <inheritdoc cref="Ops.Softplus(Tensor)"/>
    public Tensor Softplus() => Ops.Softplus(this);

    /// <inheritdoc cref="Ops.Softsign(Tensor)"/>
    public Tensor Softsign() => Ops.Softsign(this);

    /// <inheritdoc cref="Ops.Split(Tensor, ReadOnlySpan{int}, int)"/>
    public Tensor[] Split(ReadOnlySpan<int> sizes, int axis = 0) => Ops.Split(this, sizes, axis);

    /// <inheritdoc cref="Ops.Sqrt(Tensor)"/>
    public Tensor Sqrt() => Ops.Sqrt(this);

    /// <inheritdoc cref="Ops.Square(Tensor)"/>
    public Tensor Square() => Ops.Square(this);

    /// <inheritdoc cref="Ops.Std(Tensor, int?, bool, bool)"/>
    public Tensor Std(int? axis = null, bool keepDims = false, bool unbiased = true) => Ops.Std(this, axis, keepDims, unbiased);

    /// <inheritdoc cref="Ops.Subtract(Tensor, double)"/>
    public Tensor Subtract(double s) => Ops.Subtract(this, s);

    /// <inheritdoc cref="Ops.Subtract(Tensor, Tensor)"/>
    public Tensor Subtract(Tensor b) => Ops.Subtract(this, b);

    /// <inheritdoc cref="Ops.Sum(Tensor, int?, bool)"/>
    public Tensor Sum(int? axis = null, bool keepDims = false) => Ops.Sum(this, axis, keepDims);

    /// <inheritdoc cref="Ops.SumTo(Tensor, ReadOnlySpan{int})"/>
    public Tensor SumTo(params ReadOnlySpan<int> shape) => Ops.SumTo(this, shape);

    /// <inheritdoc cref="Ops.Tanh(Tensor)"/>
    public Tensor Tanh() => Ops.Tanh(this);

    /// <inheritdoc cref="Ops.Transpose(Tensor)"/>
    public Tensor Transpose() => Ops.Transpose(this);

    /// <inheritdoc cref="Ops.Transpose(Tensor, int, int)"/>
    public Tensor Transpose(int axis0, int axis1) => Ops.Transpose(this, axis0, axis1);

    /// <inheritdoc cref="Ops.Var(Tensor, int?, bool, bool)"/>
    public Tensor Var(int? axis = null, bool keepDims = false, bool unbiased = true) => Ops.Var(this, axis, keepDims, unbiased);
}
