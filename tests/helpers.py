"""Train functions shared by tests (module level, so every start method can import them)."""

import importlib.util
import math
import os
import signal
import time
from pathlib import Path

import numpy as np

import poptune as pt

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(name):
    """Import ``examples/<name>.py`` as a module (examples are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def counter(member):
    """Score = accumulated lr: members with a larger lr are better. State: the running sum."""
    x = member.checkpoint or 0.0
    for _ in member.steps():
        x += member.hparams["lr"]
        member.report(x, checkpoint=x)


def counter_with_sleep(member):
    x = member.checkpoint or 0.0
    for _ in member.steps():
        time.sleep(float(os.environ.get("POPTUNE_TEST_SLEEP", "0.01")))
        x += member.hparams["lr"]
        member.report(x, checkpoint=x)


def flaky(member, rounded=False):
    """Member 1 raises once at step 6 (a marker file remembers it happened)."""
    marker = Path(os.environ["POPTUNE_TEST_MARKER"])
    x = member.checkpoint or 0.0
    for step in member.steps():
        if member.id == 1 and step == 6 and not marker.exists():
            marker.write_text("raised")
            raise RuntimeError("transient failure")
        x += member.hparams["lr"]
        member.report(round(x, 1) if rounded else x, checkpoint=x)


def always_fails_member_0(member):
    x = member.checkpoint or 0.0
    for step in member.steps():
        if member.id == 0 and step == 3:
            raise ValueError("member 0 is broken")
        x += member.hparams["lr"]
        member.report(x, checkpoint=x)


def kills_its_worker_once(member):
    """Member 2's worker process dies (SIGKILL) at step 5, once."""
    marker = Path(os.environ["POPTUNE_TEST_MARKER"])
    x = member.checkpoint or 0.0
    for step in member.steps():
        if member.id == 2 and step == 5 and not marker.exists():
            marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        x += member.hparams["lr"]
        member.report(x, checkpoint=x)


def nan_member(member):
    """Member 0 diverges (NaN score) until it copies someone."""
    x = member.checkpoint or 0.0
    for _ in member.steps():
        x += member.hparams["lr"]
        member.report(math.nan if member.id == 0 and member.generation == 0 else x, checkpoint=x)


def replay_toy(schedule, steps):
    """Retrain the toy from scratch following a schedule; return the final true Q."""
    from poptune.demo import toy

    theta = np.array(toy.THETA0)
    for step in range(1, steps + 1):
        h = [hp for start, hp in schedule if start < step][-1]
        theta = theta + toy.STEP_SIZE * (-2.0 * np.array([h["h0"], h["h1"]]) * theta)
    return toy.q(theta)


SPACE = {"lr": pt.Float(0.01, 1.0, log=True)}


def toy_with_late_member_1(member):
    """The paper toy, but member 1's worker starts 50 ms late (a slow or retried member)."""
    from poptune.demo import toy

    if member.id == 1 and member.step == 0:
        time.sleep(0.05)
    toy.train(member)


def counter_member_0_slow(member):
    x = member.checkpoint or 0.0
    for _ in member.steps():
        if member.id == 0:
            time.sleep(0.01)
        x += member.hparams["lr"]
        member.report(x, checkpoint=x)


def tied_counter(member):
    """Score = accumulated lr rounded to 0.1: deterministic, with many ties between members."""
    x = member.checkpoint or 0.0
    for _ in member.steps():
        x += member.hparams["lr"]
        member.report(round(x, 1), checkpoint=x)


def tied_counter_flaky(member):
    """``tied_counter``; member 1 raises once at step 6 (a marker file remembers it happened)."""
    flaky(member, rounded=True)


def tied_counter_with_sleep(member):
    """``tied_counter``, sleeping ``POPTUNE_TEST_SLEEP`` seconds per step (to be killed mid-run)."""
    pause = float(os.environ.get("POPTUNE_TEST_SLEEP", "0.01"))
    x = member.checkpoint or 0.0
    for _ in member.steps():
        time.sleep(pause)
        x += member.hparams["lr"]
        member.report(round(x, 1), checkpoint=x)


def counter_by_id(member):
    """Score = step x (member id + 1) / 10, with the member id as metric ``who``; never exploited
    (use exploit=None): member k reaches a score s at step 10 s / (k + 1)."""
    for step in member.steps():
        member.report(step * (member.id + 1) / 10, checkpoint=step, who=member.id)
