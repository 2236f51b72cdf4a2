// The book's attention seq2seq on dates (volume 2, chapter 8): "september 27, 1994", "9/27/94", … → "1994-09-27".
// 45,000 training and 5,000 test problems generated with a seed; the question read backwards as in the book;
// character vectors of 16, hidden size 128, batch 128, Adam, gradients clipped to norm 5. Prints each epoch's loss
// and exact-match test accuracy, and writes an SVG heat map of one test question's attention weights (the
// optional first argument names it). With --json, one JSON line at the end.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

using AutoGrad.Nn.Optimizers;

using DateAttention;

var json = args.Contains("--json");
var epochs = args.SkipWhile(a => a != "--epochs").Skip(1).Select(int.Parse).FirstOrDefault(6);
var picture = args.FirstOrDefault(a => a.EndsWith(".svg", StringComparison.Ordinal)) ?? "date-attention.svg";
const int batchSize = 128;
var problems = DateProblems.Generate(50_000, seed: 2016);
var (train, test) = (problems[..45_000], problems[45_000..]);
var start = DateProblems.Alphabet.IndexOf('_');

var model = new AttentionSeq2Seq(DateProblems.Alphabet.Length, dimension: 16, hidden: 128, seed: 1);
var optimizer = new Adam(model.Parameters(), 0.001) { MaxGradientNorm = 5.0 };
var random = new Random(7);
var order = Enumerable.Range(0, train.Length).ToArray();
double accuracy = 0, loss = 0;
var clock = Stopwatch.StartNew();
using (var tape = new Tape())
{
    for (var epoch = 1; epoch <= epochs; epoch++)
    {
        random.Shuffle(order);
        double total = 0;
        var batches = 0;
        for (var first = 0; first + batchSize <= order.Length; first += batchSize)
        {
            var (questions, inputs, targets) = Batch([.. order.AsSpan(first, batchSize).ToArray().Select(i => train[i])]);
            tape.Reset();
            var batchLoss = Ops.SoftmaxWithLoss(model.Decode(inputs, model.Encode(questions)), targets);
            optimizer.ZeroGrad();
            tape.Backward(batchLoss);
            optimizer.Step();
            total += batchLoss.ToScalar();
            batches++;
        }

        loss = total / batches;
        accuracy = Accuracy(model, test, start);
        if (!json)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {epoch}: loss {loss:F4}, test accuracy {accuracy * 100:F2} % ({clock.Elapsed.TotalSeconds:F1} s)"));
        }
    }
}

// The heat map of the first test question, and a few answers.
using (Tape.NoGrad())
{
    var (questions, inputs, _) = Batch(test[..1]);
    var weights = model.AttentionWeights(questions, inputs).ToDoubleArray();
    File.WriteAllText(picture, HeatMap.Svg(test[0].Question.TrimEnd(), test[0].Answer, weights, DateProblems.QuestionLength));
    if (!json)
    {
        var (some, _, _) = Batch(test[..5]);
        var answers = model.Generate(some, start, DateProblems.AnswerLength);
        for (var i = 0; i < 5; i++)
        {
            var answer = new string([.. answers.Skip(i * DateProblems.AnswerLength).Take(DateProblems.AnswerLength).Select(id => DateProblems.Alphabet[id])]);
            Console.WriteLine($"{test[i].Question.Trim()} → {answer} (true: {test[i].Answer})");
        }

        Console.WriteLine($"wrote {picture}");
    }
}

if (json)
{
    Console.WriteLine(JsonSerializer.Serialize(new { epochs, trainLoss = loss, testAccuracy = accuracy, seconds = clock.Elapsed.TotalSeconds, heatMap = picture }));
}

// Questions reversed (as the book), decoder inputs "_" + the answer but its last character, and the targets: the
// answer's characters.
static (IntTensor Questions, IntTensor Inputs, int[] Targets) Batch((string Question, string Answer)[] batch)
{
    var n = batch.Length;
    var questions = batch.SelectMany(p => DateProblems.Ids(new string([.. p.Question.Reverse()]))).ToArray();
    var inputs = batch.SelectMany(p => DateProblems.Ids("_" + p.Answer[..^1])).ToArray();
    var targets = batch.SelectMany(p => DateProblems.Ids(p.Answer)).ToArray();
    return (IntTensor.FromArray(questions, n, DateProblems.QuestionLength), IntTensor.FromArray(inputs, n, DateProblems.AnswerLength), targets);
}

// Exact match: all ten generated characters right.
static double Accuracy(AttentionSeq2Seq model, (string Question, string Answer)[] test, int start)
{
    using var scope = Tape.NoGrad();
    var correct = 0;
    for (var first = 0; first < test.Length; first += 1000)
    {
        var chunk = test[first..Math.Min(test.Length, first + 1000)];
        var (questions, _, targets) = Batch(chunk);
        var answers = model.Generate(questions, start, DateProblems.AnswerLength);
        for (var i = 0; i < chunk.Length; i++)
        {
            correct += answers.AsSpan(i * DateProblems.AnswerLength, DateProblems.AnswerLength).SequenceEqual(targets.AsSpan(i * DateProblems.AnswerLength, DateProblems.AnswerLength)) ? 1 : 0;
        }
    }

    return (double)correct / test.Length;
}
