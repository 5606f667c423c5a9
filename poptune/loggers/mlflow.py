"""Mirror a run to MLflow: a parent run for the population, a nested run per member."""

from __future__ import annotations

import numbers
import time

from poptune.callbacks import Callback
from poptune.errors import PoptuneError
from poptune.core import events as ev

FLUSH_SECONDS = 2.0  # metrics are sent in batches: MLflow calls cost milliseconds each
_STATUS = {"finished": "FINISHED", "interrupted": "KILLED", "failed": "FAILED"}


class MLflow(Callback):
    """Log every report to MLflow.

    The population is a parent run (its configuration as parameters); each member is a nested
    run with its first hyperparameters as parameters, and per step ``score``, numeric metrics,
    and numeric hyperparameters as ``hparams/<name>`` metrics (MLflow parameters cannot change,
    the schedule can). A resumed session opens new runs.

    Args:
        tracking_uri: MLflow tracking URI (default: MLflow's own, e.g. ``MLFLOW_TRACKING_URI``).
        experiment: Experiment name, created if missing.

    Example:
        >>> import poptune as pt
        >>> logger = pt.loggers.MLflow(experiment="digits")  # pt.run(..., callbacks=[logger])
    """

    def __init__(self, tracking_uri: str | None = None, experiment: str = "poptune"):
        self.tracking_uri = tracking_uri
        self.experiment = experiment

    def on_start(self, config, population, run_dir):
        try:
            from mlflow.entities import Metric, Param, RunTag
            from mlflow.tracking import MlflowClient
        except ImportError:
            raise PoptuneError("the MLflow logger needs mlflow: pip install 'poptune[mlflow]'") from None
        self._Metric, self._Param, self._Tag = Metric, Param, RunTag
        self.client = MlflowClient(tracking_uri=self.tracking_uri)
        found = self.client.get_experiment_by_name(self.experiment)
        self.experiment_id = found.experiment_id if found else self.client.create_experiment(self.experiment)
        params = {k: v for k, v in config.items() if k in ("population", "steps", "interval", "direction",
                                                           "exploit", "explore", "seed", "synchronous")}
        self.parent = self.client.create_run(self.experiment_id, run_name=str(run_dir),
                                             tags={"poptune.dir": str(run_dir)}).info.run_id
        self.client.log_batch(self.parent, params=[Param(k, str(v)) for k, v in params.items()])
        self.runs = {}
        for state in population:
            run = self.client.create_run(
                self.experiment_id, run_name=f"member-{state.id}",
                tags={"mlflow.parentRunId": self.parent, "poptune.member": str(state.id)},
            )
            self.runs[state.id] = run.info.run_id
            self.client.log_batch(run.info.run_id, params=[Param(k, str(v)) for k, v in state.hparams.items()])
        self._pending: dict[int, list] = {}
        self._last_flush = time.monotonic()

    def on_event(self, event, population):
        if isinstance(event, ev.Reported):
            stamp, step = int(event.time * 1000), event.step
            metrics = self._pending.setdefault(event.member, [])
            metrics.append(self._Metric("score", event.score, stamp, step))
            for name, value in event.metrics.items():
                if _number(value):
                    metrics.append(self._Metric(name, float(value), stamp, step))
            for name, value in population[event.member].hparams.items():
                if _number(value):
                    metrics.append(self._Metric(f"hparams/{name}", float(value), stamp, step))
        elif isinstance(event, ev.Exploited):
            self.client.set_tag(self.runs[event.member], "poptune.last_exploit",
                                f"step {event.step}: copied member {event.source}")

    def on_tick(self, population):
        if time.monotonic() - self._last_flush >= FLUSH_SECONDS:
            self._flush()

    def _flush(self):
        for member, metrics in self._pending.items():
            for i in range(0, len(metrics), 1000):  # MLflow accepts at most 1000 metrics per batch
                self.client.log_batch(self.runs[member], metrics=metrics[i:i + 1000])
        self._pending = {}
        self._last_flush = time.monotonic()

    def on_end(self, status, population):
        self._flush()
        best = max(population, key=lambda s: s.fitness)
        self.client.log_batch(self.parent, metrics=[self._Metric("best_score", best.score, int(time.time() * 1000), 0)],
                              tags=[self._Tag("poptune.best_member", str(best.id))])
        for run_id in [*self.runs.values(), self.parent]:
            self.client.set_terminated(run_id, status=_STATUS.get(status, "FINISHED"))


def _number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
