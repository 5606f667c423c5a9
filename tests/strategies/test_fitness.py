import math

import pytest

import poptune as pt
from poptune.strategies.fitness import Metric, Score, Smoothed, as_fitness, oriented


def test_the_default_ranks_by_the_oriented_score():
    assert as_fitness(None).value(0.3, {}, (0.3,), "minimize") == -0.3
    assert Score().value(math.nan, {}, (math.nan,), "maximize") == -math.inf
    assert oriented(math.inf, "maximize") == -math.inf  # a diverged score ranks worst


def test_smoothed_averages_the_recent_scores():
    assert Smoothed(2).value(0.4, {}, (0.9, 0.2, 0.4), "maximize") == pytest.approx(0.3)
    assert Smoothed(3).value(0.4, {}, (math.nan, 0.2, 0.4), "maximize") == -math.inf
    with pytest.raises(pt.ConfigError, match="window must be an integer >= 1"):
        Smoothed(0)


def test_metric_reads_another_number_and_says_when_it_is_missing():
    assert Metric("loss", "minimize").value(0.9, {"loss": 0.25}, (), "maximize") == -0.25
    with pytest.raises(pt.UsageError, match="has no metric 'loss'.*report it at every step"):
        Metric("loss").value(0.9, {"acc": 1.0}, (), "maximize")
    with pytest.raises(pt.ConfigError, match="direction must be"):
        Metric("loss", "down")


def test_a_function_is_a_fitness_and_bad_values_are_errors():
    fit = as_fitness(lambda score, metrics: score - metrics["penalty"])
    assert fit.value(1.0, {"penalty": 0.25}, (), "maximize") == 0.75
    with pytest.raises(pt.UsageError, match="return a number"):
        as_fitness(lambda s, m: "high").value(1.0, {}, (), "maximize")
    with pytest.raises(pt.ConfigError, match="fitness must be"):
        as_fitness(3)


def test_a_run_ranks_by_its_fitness(tmp_path):
    def train(member):
        x = member.checkpoint or 0.0
        for _ in member.steps():
            x += member.hparams["lr"]
            member.report(x, checkpoint=x, cost=-x)  # the score says up, the metric says down

    common = dict(population=4, steps=12, interval=4, runner="inline", seed=0, progress=False,
                  exploit=pt.Truncation(0.25))
    space = {"lr": pt.Float(0.01, 1.0)}
    by_score = pt.run(train, space, dir=tmp_path / "a", **common)
    by_metric = pt.run(train, space, dir=tmp_path / "b", fitness=pt.fitness.Metric("cost", "maximize"), **common)
    assert all(x.copied["lr"] >= x.old["lr"] for x in by_score.exploits)
    assert by_metric.exploits and all(x.copied["lr"] <= x.old["lr"] for x in by_metric.exploits)
    assert by_metric.config["fitness"] == "Metric('cost', 'maximize')"
