"""The Ray runner's bookkeeping against interleavings a loaded cluster produces, with a fake Ray
(no ray needed): a run() call that returns before its segment's last message is delivered, and
messages from an actor that was failed over."""

from types import SimpleNamespace

from poptune.core.messages import Idle, Report, Task
from poptune.runners.ray_runner import Ray, _Slot


class FakeRef:
    pass


class FakeRay:
    def __init__(self):
        self.finished, self.errors, self.killed = set(), {}, []

    def get(self, value):
        if isinstance(value, FakeRef):
            if value in self.errors:
                raise self.errors[value]
            return None
        return value  # what the mailbox's take() returned

    def wait(self, refs, num_returns, timeout):
        return [r for r in refs if r in self.finished], [r for r in refs if r not in self.finished]

    def kill(self, actor, no_restart=True):
        self.killed.append(actor)


class Handler:
    def __init__(self):
        self.seen = []

    def on_report(self, report):
        self.seen.append(("report", report.member, report.step))
        return None

    def on_failure(self, failure):
        self.seen.append(("failure", failure.member))

    def on_idle(self, idle):
        self.seen.append(("idle", idle.member))


def runner_with(slots):
    runner = Ray()
    queue = []

    def take(timeout):
        out = list(queue)
        queue.clear()
        return out

    runner._ray, runner._handler, runner.task_timeout = FakeRay(), Handler(), None
    runner._mailbox = SimpleNamespace(take=SimpleNamespace(remote=take),
                                      answer=SimpleNamespace(remote=lambda member, reply: None))
    runner._actors = slots
    runner._senders = {slot.sender: slot for slot in slots}
    runner._spawn = lambda: _Slot(actor(), None, f"fresh-{len(runner._ray.killed)}")
    return runner, queue


def actor():
    return SimpleNamespace(run=SimpleNamespace(remote=lambda task: FakeRef()))


def task(member):
    return Task(member=member, hparams={}, ref=None, start=0, stop=4, budget=8, seed=0)


def test_a_slot_stays_busy_until_its_segment_says_it_ended_even_if_its_call_returned_first():
    runner, queue = runner_with([_Slot(actor(), None, "a")])
    runner.submit(task(0))
    runner._ray.finished.add(runner._actors[0].ref)  # run() returned...
    runner.poll(0)  # ...before the mailbox delivered its Idle
    assert runner.free_slots() == 0 and runner._handler.seen == []
    queue.append(("a", Idle(0)))
    runner.poll(0)
    assert runner.free_slots() == 1 and runner._handler.seen == [("idle", 0)]
    queue.append(("a", Idle(0)))  # a duplicate can never free it twice
    runner.poll(0)
    assert runner._handler.seen == [("idle", 0)]


def test_messages_of_a_failed_over_actor_are_dropped():
    runner, queue = runner_with([_Slot(actor(), None, "a")])
    runner.submit(task(0))
    dead = runner._actors[0]
    runner._ray.errors[dead.ref] = RuntimeError("actor died")
    runner._ray.finished.add(dead.ref)
    runner.poll(0)
    assert runner._handler.seen == [("failure", 0)] and runner._actors[0] is not dead
    queue.extend([("a", Report(0, 3, 0.5)), ("a", Idle(0))])  # in flight when it died
    runner.poll(0)
    assert runner._handler.seen == [("failure", 0)] and runner.free_slots() == 1


def test_an_actor_that_dies_after_its_segment_ended_is_replaced_without_a_failure():
    runner, queue = runner_with([_Slot(actor(), None, "a")])
    runner.submit(task(0))
    queue.append(("a", Idle(0)))
    runner.poll(0)
    slot = runner._actors[0]
    runner._ray.errors[slot.ref] = RuntimeError("actor died later")
    runner._ray.finished.add(slot.ref)
    runner.poll(0)
    assert runner._handler.seen == [("idle", 0)] and runner._actors[0] is not slot
