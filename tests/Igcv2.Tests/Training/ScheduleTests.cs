using Igcv2.Training;

namespace Igcv2.Tests.Training;

public sealed class ScheduleTests
{
    [Theory]
    [InlineData(0, 0.1)]
    [InlineData(199, 0.1)]
    [InlineData(200, 0.01)]
    [InlineData(299, 0.01)]
    [InlineData(300, 0.001)]
    [InlineData(350, 0.0001)]
    [InlineData(399, 0.0001)]
    public void The_papers_multistep_divides_by_ten_at_200_300_and_350(int epoch, double expected)
    {
        var schedule = MultiStepSchedule.PaperCifar();

        Assert.Equal(expected, schedule.At(epoch, 17, 782), 12);
    }

    [Theory]
    [InlineData(0, 0, 0.1)]
    [InlineData(5, 0, 0.05)]
    [InlineData(10, 0, 0.0)]
    [InlineData(2, 50, 0.0853553391)] // t = 2.5 of 10: 0.05*(1 + cos(pi/4))
    public void Cosine_is_evaluated_per_iteration(int epoch, int step, double expected)
    {
        var schedule = new CosineSchedule(0.1, 10);

        Assert.Equal(expected, schedule.At(epoch, step, 100), 8);
    }

    [Fact]
    public void Cosine_changes_within_an_epoch_and_respects_its_floor()
    {
        var schedule = new CosineSchedule(0.1, 4, minRate: 0.01);

        Assert.True(schedule.At(1, 10, 100) < schedule.At(1, 0, 100));
        Assert.Equal(0.01, schedule.At(4, 0, 100), 12);
        Assert.Equal(0.01, schedule.At(9, 0, 100), 12);
    }

    [Theory]
    [InlineData(0, 0, 0.0)]
    [InlineData(0, 50, 0.025)]   // 0.5 of 2 warm-up epochs
    [InlineData(1, 50, 0.075)]
    [InlineData(2, 0, 0.1)]
    [InlineData(5, 3, 0.01)]     // past warm-up: the multistep alone
    public void Warmup_ramps_a_multistep_schedule_linearly(int epoch, int step, double expected)
    {
        var schedule = new MultiStepSchedule(0.1, [5]).WithWarmup(2);

        Assert.Equal(expected, schedule.At(epoch, step, 100), 12);
    }

    [Fact]
    public void Warmup_composes_with_cosine_and_a_start_factor()
    {
        var cosine = new CosineSchedule(0.2, 10);
        var schedule = cosine.WithWarmup(1, startFactor: 0.1);

        Assert.Equal(0.02, schedule.At(0, 0, 10), 12);
        Assert.Equal(cosine.At(0, 5, 10) * 0.55, schedule.At(0, 5, 10), 12);
        Assert.Equal(cosine.At(3, 2, 10), schedule.At(3, 2, 10), 12);
    }

    [Fact]
    public void Paper_shape_scaled_to_a_run_keeps_its_milestones_and_starts_every_run_at_the_base_rate()
    {
        Assert.Equal([200, 300, 350], MultiStepSchedule.PaperScaled(400).Milestones);
        Assert.Equal([12, 18, 21], MultiStepSchedule.PaperScaled(24).Milestones);
        var oneEpoch = MultiStepSchedule.PaperScaled(1, 0.1);
        Assert.Empty(oneEpoch.Milestones);
        Assert.Equal(0.1, oneEpoch.At(new SchedulePosition(0, 0, 10)), 12);
    }
}
