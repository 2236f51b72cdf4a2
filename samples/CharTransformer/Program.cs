// A character-level language model on the words of Debian's wamerican list (see Words.cs and
// wamerican-copyright.txt): 2 transformer blocks, 4 heads, width 64, trained with Adam on 90% of the words. Reports
// the test loss in nats per character beside a bigram model's fitted on the same split, and samples ten words.
// Three epochs (about 50 s on two cores) with the learning rate halved after each: 21.8% below the bigram's loss
// (1.934 against 2.472 nats); a fourth reaches 22.7%.
// Arguments: --epochs N, --words PATH, --json (one JSON line with testLoss and bigramTestLoss).
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

using AutoGrad.Nn.Optimizers;

using CharTransformer;

var json = args.Contains("--json");
var epochs = args.SkipWhile(a => a != "--epochs").Skip(1).Select(int.Parse).FirstOrDefault(3);
var path = args.SkipWhile(a => a != "--words").Skip(1).FirstOrDefault() ?? Words.DefaultPath;
const int batchSize = 64, ignore = -1;
var (train, test) = Words.Load(path, testFraction: 0.1, seed: 5);
var maxLength = train.Concat(test).Max(w => w.Length) + 1;
var bigram = new Bigram(train).Loss(test);

var model = new CharModel(Words.Alphabet.Length, width: 64, heads: 4, blocks: 2, maxLength, seed: 1);
var optimizer = new Adam(model.Parameters(), 0.002) { MaxGradientNorm = 1.0 };
var order = train.ToArray();
var random = new Random(11);
var clock = Stopwatch.StartNew();
double testLoss = 0;
using (var tape = new Tape())
{
    for (var epoch = 1; epoch <= epochs; epoch++)
    {
        random.Shuffle(order);
        optimizer.LearningRate = 0.002 * Math.Pow(0.5, epoch - 1);
        double total = 0;
        var batches = 0;
        for (var first = 0; first + batchSize <= order.Length; first += batchSize)
        {
            var (inputs, targets) = Words.Batch(order.AsSpan(first, batchSize).ToArray(), ignore);
            tape.Reset();
            var loss = Ops.SoftmaxWithLoss(model.Scores(inputs), targets, ignore);
            optimizer.ZeroGrad();
            tape.Backward(loss);
            optimizer.Step();
            total += loss.ToScalar();
            batches++;
        }

        testLoss = TestLoss(model, test);
        if (!json)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {epoch}: train loss {total / batches:F4}, test loss {testLoss:F4} nats/char (bigram {bigram:F4}) ({clock.Elapsed.TotalSeconds:F1} s)"));
        }
    }
}

var samples = Sample(model, 10, maxLength, new Random(3));
if (json)
{
    Console.WriteLine(JsonSerializer.Serialize(new { epochs, testLoss, bigramTestLoss = bigram, trainWords = train.Length, testWords = test.Length, samples, seconds = clock.Elapsed.TotalSeconds }));
}
else
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"test loss {testLoss:F4} nats/char, bigram {bigram:F4}: {100 * (1 - (testLoss / bigram)):F1}% lower"));
    Console.WriteLine("samples: " + string.Join(", ", samples));
}

// The mean loss per predicted character over the test words, in batches, each weighted by its characters.
static double TestLoss(CharModel model, string[] test)
{
    using var scope = Tape.NoGrad();
    double total = 0;
    long count = 0;
    for (var first = 0; first < test.Length; first += 512)
    {
        var words = test[first..Math.Min(test.Length, first + 512)];
        var (inputs, targets) = Words.Batch(words, ignore);
        var characters = words.Sum(w => w.Length + 1);
        total += Ops.SoftmaxWithLoss(model.Scores(inputs), targets, ignore).ToScalar() * characters;
        count += characters;
    }

    return total / count;
}

// Words drawn a character at a time from the model's softmax, from the boundary mark to the next one.
static string[] Sample(CharModel model, int count, int maxLength, Random random)
{
    using var scope = Tape.NoGrad();
    var words = new string[count];
    for (var i = 0; i < count; i++)
    {
        var text = new StringBuilder();
        var ids = new List<int> { 0 };
        while (ids.Count < maxLength)
        {
            var scores = model.Scores(IntTensor.FromArray([.. ids], 1, ids.Count));
            var last = Ops.Softmax(Ops.Narrow(scores, 0, ids.Count - 1, 1), 1).ToDoubleArray();
            var next = Pick(last, random.NextDouble());
            if (next == 0)
            {
                break;
            }

            ids.Add(next);
            text.Append(Words.Alphabet[next]);
        }

        words[i] = text.ToString();
    }

    return words;
}

static int Pick(double[] probabilities, double u)
{
    for (var k = 0; k < probabilities.Length; k++)
    {
        u -= probabilities[k];
        if (u <= 0)
        {
            return k;
        }
    }

    return probabilities.Length - 1;
}
