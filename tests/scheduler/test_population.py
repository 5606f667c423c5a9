import math

from poptune.scheduler import FAILED, FINISHED, PENDING, Population
from poptune.store import Event


def members(pop, n, hparams=None):
    for m in range(n):
        pop.apply(Event("member", m, 0, data={"hparams": hparams or {"lr": 0.1 * (m + 1)}}))


def test_reports_checkpoints_and_exploits_update_the_state():
    pop = Population("maximize", 12, window=3)
    members(pop, 2)
    for step, score in enumerate([0.1, 0.2, 0.3, 0.4], start=1):
        pop.apply(Event("report", 0, step, score))
    pop.apply(Event("checkpoint", 0, 4, data={"ref": "a"}))
    s = pop[0]
    assert (s.step, s.score, s.ref, s.ref_step) == (4, 0.4, "a", 4)
    assert list(s.history) == [0.2, 0.3, 0.4]  # window of 3
    pop.apply(Event("report", 1, 1, math.nan))
    assert pop[1].fitness == -math.inf
    pop.apply(
        Event("exploit", 1, 4, data={"source": 0, "source_step": 4, "source_age": 6, "ref": "a",
                                      "old": {"lr": 0.2}, "copied": {"lr": 0.1}, "new": {"lr": 0.12}, "generation": 1})
    )
    t = pop[1]
    assert (t.hparams, t.ref, t.ref_step, t.generation, t.parent, t.age) == ({"lr": 0.12}, "a", 4, 1, 0, 6)
    assert (pop[0].copied, t.exploits) == (1, 1)


def test_minimize_orients_fitness():
    pop = Population("minimize", 10)
    members(pop, 1)
    pop.apply(Event("report", 0, 1, 2.5))
    assert pop[0].fitness == -2.5


def test_copyable_needs_a_checkpoint_and_excludes_failed_members():
    pop = Population("maximize", 10)
    members(pop, 3)
    pop.apply(Event("checkpoint", 0, 2, data={"ref": "a"}))
    pop.apply(Event("checkpoint", 1, 2, data={"ref": "b"}))
    pop.apply(Event("failed", 1, 3))
    assert [v.id for v in pop.copyable()] == [0]


def test_a_new_session_reopens_failed_members_and_grown_budgets():
    pop = Population("maximize", 10)
    members(pop, 2)
    pop.apply(Event("failure", 0, 3))
    pop.apply(Event("failed", 0, 3))
    pop.apply(Event("checkpoint", 1, 10, data={"ref": "f"}))
    pop.apply(Event("finish", 1, 10))
    assert (pop[0].status, pop[1].status) == (FAILED, FINISHED) and pop.done()
    pop.apply(Event("resume", data={"steps": 10}))
    assert (pop[0].status, pop[0].failures, pop[1].status) == (PENDING, 0, FINISHED)
    pop.apply(Event("resume", data={"steps": 20}))
    assert pop[1].status == PENDING
