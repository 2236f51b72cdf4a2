// DeZero's spiral classification (step 48): three interleaved spirals of 100 points each, a 2-10-3 MLP with a
// sigmoid hidden layer, SGD with learning rate 1, batches of 30, 300 epochs.
using AutoGrad.Nn.Data;
using AutoGrad.Nn.Optimizers;
using AutoGrad.Nn.Training;

var spiral = Spiral.Create(pointsPerClass: 100, classes: 3, seed: 1);
var model = new MultiLayerNet(2, [10], 3, activation: "sigmoid", init: WeightInit.Xavier, seed: 1);
var result = Trainer.Fit(
    model,
    new Sgd(model.Parameters(), learningRate: 1.0),
    spiral,
    spiral,
    new TrainingOptions { BatchSize = 30, Epochs = 300, Seed = 1, EvaluateEachEpoch = false },
    p =>
    {
        if (p.Iteration % 1000 == 0)
        {
            Console.WriteLine($"epoch {p.Epoch}: loss {p.Loss:F4}");
        }
    });
Console.WriteLine($"final loss {result.FinalLoss:F4}, accuracy {result.TrainAccuracy:P1} on the {spiral.Count} spiral points");

/// <summary>DeZero's get_spiral: points along three arms, each arm a class, with seeded noise on the angle.</summary>
internal static class Spiral
{
    public static Dataset Create(int pointsPerClass, int classes, int seed)
    {
        var random = new SeededRandom(seed);
        var features = new float[pointsPerClass * classes * 2];
        var labels = new int[pointsPerClass * classes];
        for (var c = 0; c < classes; c++)
        {
            for (var i = 0; i < pointsPerClass; i++)
            {
                var rate = (double)i / pointsPerClass;
                var radius = rate;
                var theta = (c * 4.0) + (4.0 * rate) + (random.NextNormal() * 0.2);
                var k = (c * pointsPerClass) + i;
                features[2 * k] = (float)(radius * Math.Sin(theta));
                features[(2 * k) + 1] = (float)(radius * Math.Cos(theta));
                labels[k] = c;
            }
        }

        return new Dataset("spiral", features, labels, 2, classes);
    }
}
