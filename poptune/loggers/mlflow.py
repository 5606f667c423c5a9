"""Mirror a run to MLflow: a parent run for the population, a nested run per member."""

from __future__ import annotations

import time

from poptune.callbacks import Callback
from poptune.core import events as ev
from poptune.errors import PoptuneError
from poptune.loggers.common import TrackerIds, number

FLUSH_SECONDS = 2.0  # metrics are sent in batches: MLflow calls cost milliseconds each
_STATUS = {"finished": "FINISHED", "interrupted": "KILLED", "failed": "FAILED"}
_CONFIG = ("population", "steps", "interval", "direction", "exploit", "explore", "seed", "synchronous", "quorum")


class MLflow(Callback):
    """Log every report to MLflow.

    The population is a parent run (the run's configuration as parameters); each member is a
    nested run. Per member and step: ``score``, the numeric metrics, and each numeric
    hyperparameter *in use at that step* as the metric ``hparams/<name>`` (the schedule, as a
    curve; MLflow's run table shows its latest value, the one the member's model trained with
    last). Parameters cannot change in MLflow, hyperparameters can: a member's first values are
    the parameters ``initial/<name>``; the tags ``poptune.hparams.<name>`` hold the current values
    of every hyperparameter (strings and choices too), and ``poptune.last_exploit`` the last copy.

    A resumed session continues the same MLflow runs (their ids are kept in
    ``<run dir>/loggers/mlflow.json``). Metrics are sent every few seconds; a controller killed
    outright loses the last few seconds of them in MLflow (never in the run directory).

    Args:
        tracking_uri: MLflow tracking URI. Default: MLflow's own (``MLFLOW_TRACKING_URI``, else
            ``sqlite:///mlflow.db`` in the working directory, which needs SQLAlchemy and Alembic:
            ``pip install 'poptune[mlflow]'`` installs them).
        experiment: Experiment name, created if missing.

    Examples:
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
        try:
            self.client = MlflowClient(tracking_uri=self.tracking_uri)
            found = self.client.get_experiment_by_name(self.experiment)
            self.experiment_id = found.experiment_id if found else self.client.create_experiment(self.experiment)
        except Exception as error:  # MLflow raises a different class per store problem
            uri = self.tracking_uri or "MLflow's default (MLFLOW_TRACKING_URI or sqlite:///mlflow.db)"
            raise PoptuneError(
                f"the MLflow logger could not open the tracking store {uri}: {type(error).__name__}: {error}. "
                f"Install what the default store needs with pip install 'poptune[mlflow]' (SQLAlchemy and "
                f"Alembic), or pass pt.loggers.MLflow(tracking_uri=...) with a server URL "
                f"('http://host:5000') or a database URI ('sqlite:///mlflow.db')"
            ) from error
        self._ids = TrackerIds(run_dir, "mlflow")
        self.parent = self._open("population", str(run_dir), {"poptune.dir": str(run_dir)})
        if self.parent.new:
            params = {k: v for k, v in config.items() if k in _CONFIG}
            self.client.log_batch(self.parent.id, params=[Param(k, str(v)) for k, v in params.items()])
        self.runs = {}
        for state in population:
            run = self._open(f"member-{state.id}", f"member-{state.id}",
                             {"mlflow.parentRunId": self.parent.id, "poptune.member": str(state.id)})
            self.runs[state.id] = run.id
            if run.new:
                initial = population.segments(state.id)[0].hparams if population.segments(state.id) else state.hparams
                self.client.log_batch(run.id, params=[Param(f"initial/{k}", str(v)) for k, v in initial.items()])
            self._tag_hparams(state.id, state.hparams)
        self._ids.save()
        self._pending: dict[int, list] = {}
        self._last_flush = time.monotonic()

    def _open(self, key: str, name: str, tags: dict) -> _Opened:
        known = self._ids.get(key)
        if known is not None:
            try:
                run = self.client.get_run(known)
                if run.info.experiment_id == self.experiment_id:
                    self.client.update_run(known, status="RUNNING")
                    return _Opened(known, new=False)
            except Exception:  # deleted, or another tracking store than last session's
                pass
        run_id = self.client.create_run(self.experiment_id, run_name=name, tags=tags).info.run_id
        self._ids.set(key, run_id)
        return _Opened(run_id, new=True)

    def _tag_hparams(self, member: int, hparams: dict) -> None:
        tags = [self._Tag(f"poptune.hparams.{k}", str(v)) for k, v in hparams.items()]
        self.client.log_batch(self.runs[member], tags=tags)

    def on_event(self, event, population):
        if isinstance(event, ev.Reported):
            stamp, step = int(event.time * 1000), event.step
            metrics = self._pending.setdefault(event.member, [])
            metrics.append(self._Metric("score", event.score, stamp, step))
            for name, value in event.metrics.items():
                if number(value):
                    metrics.append(self._Metric(name, float(value), stamp, step))
            for name, value in population[event.member].hparams.items():
                if number(value):
                    metrics.append(self._Metric(f"hparams/{name}", float(value), stamp, step))
        elif isinstance(event, ev.Exploited):
            self.client.set_tag(self.runs[event.member], "poptune.last_exploit",
                                f"step {event.step}: copied member {event.source} (its step {event.source_step})")
            self._tag_hparams(event.member, event.new)
        elif isinstance(event, ev.Explored):
            self._tag_hparams(event.member, event.new)

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
        scored = [s for s in population if s.score == s.score]
        if scored:
            best = max(scored, key=lambda s: s.fitness)
            self.client.log_batch(self.parent.id,
                                  metrics=[self._Metric("best_score", best.score, int(time.time() * 1000), 0)],
                                  tags=[self._Tag("poptune.best_member", str(best.id))])
        for run_id in [*self.runs.values(), self.parent.id]:
            self.client.set_terminated(run_id, status=_STATUS.get(status, "FINISHED"))


class _Opened:
    def __init__(self, id: str, new: bool):
        self.id, self.new = id, new
