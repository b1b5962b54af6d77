namespace Igcv2.Data;

/// <summary>Which part of a published data set to read.</summary>
public enum DatasetSplit
{
    Train,

    /// <summary>The labelled held-out part: MNIST t10k, CIFAR test, Tiny ImageNet val (its test set has no labels).</summary>
    Test,
}
