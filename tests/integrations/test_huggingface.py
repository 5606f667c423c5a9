"""A transformers Trainer as a PBT member: the steps, the hyperparameters in use, resume, errors."""

import collections
import logging

import pytest

import poptune as pt

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("accelerate")
from poptune.integrations.huggingface import PoptuneCallback  # noqa: E402

SPACE = {"learning_rate": pt.Float(1e-4, 1e-1, log=True), "weight_decay": pt.Float(1e-4, 1e-1, log=True)}
g = torch.Generator().manual_seed(0)
TOKENS = torch.randint(1, 32, (160, 6), generator=g)
LABELS = (TOKENS[:, 0] < 16).long()  # the class is in the first token
CONFIG = dict(vocab_size=32, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
              max_position_embeddings=8, num_labels=2)
BATCHES_PER_EPOCH = 4  # 128 training rows, batches of 32


class Rows(torch.utils.data.Dataset):
    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def __len__(self):
        return self.hi - self.lo

    def __getitem__(self, i):
        return {"input_ids": TOKENS[self.lo + i], "labels": LABELS[self.lo + i]}


def accuracy(prediction):
    return {"accuracy": float((prediction.predictions.argmax(-1) == prediction.label_ids).mean())}


class Probe(transformers.TrainerCallback):
    """Records the values every optimizer step uses: (global step, lr, weight decay of the decaying group)."""

    def __init__(self, member, seen):
        self.member, self.seen = member, seen

    def on_step_begin(self, args, state, control, optimizer=None, **kwargs):
        decay = max(group["weight_decay"] for group in optimizer.param_groups)
        self.seen[self.member.id].append((state.global_step + 1, optimizer.param_groups[0]["lr"], decay))


@pytest.fixture(autouse=True)
def _quiet_transformers():
    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()
    logging.getLogger("accelerate").setLevel(logging.ERROR)
    yield
    transformers.logging.set_verbosity(verbosity)


def make_train(seen, tmp_path, monitor="eval_accuracy", resume=True, **arguments):
    def train(member):
        torch.manual_seed(member.seed)
        model = transformers.BertForSequenceClassification(transformers.BertConfig(**CONFIG))
        h = member.hparams
        args = transformers.TrainingArguments(
            output_dir=str(tmp_path / "out"), **{"num_train_epochs": member.budget, "eval_strategy": "epoch",
                                                 "lr_scheduler_type": "constant", **arguments},
            learning_rate=h["learning_rate"], weight_decay=h["weight_decay"], per_device_train_batch_size=32,
            per_device_eval_batch_size=32, save_strategy="no", report_to=[], use_cpu=True, disable_tqdm=True,
            logging_strategy="no")
        callback = PoptuneCallback(member, monitor=monitor)
        trainer = transformers.Trainer(model=model, args=args, train_dataset=Rows(0, 128), eval_dataset=Rows(128, 160),
                                       compute_metrics=accuracy, callbacks=[callback, Probe(member, seen)])
        trainer.train(resume_from_checkpoint=callback.resume_from if resume else None)
    return train


def run(path, train, steps=6, **kwargs):
    return pt.run(train, SPACE, population=4, steps=steps, interval=2, runner="inline", dir=path, seed=0,
                  progress=False, **kwargs)


def check_updates(result, seen, steps, batches_per_step, factor=lambda g: 1.0):
    for member, updates in seen.items():  # every optimizer step once, with the member's hyperparameters
        assert [g for g, _, _ in updates] == list(range(1, steps * batches_per_step + 1))
        for g, lr, decay in updates:
            hparams = result.hparams_at(member, (g - 1) // batches_per_step + 1)
            assert lr == pytest.approx(hparams["learning_rate"] * factor(g))
            assert decay == pytest.approx(hparams["weight_decay"])


def test_one_report_per_epoch_scored_by_the_monitor_and_trained_with_the_members_hparams(tmp_path):
    seen = collections.defaultdict(list)
    result = run(tmp_path, make_train(seen, tmp_path))
    assert sorted((r.member, r.step) for r in result.reports) == [(m, s) for m in range(4) for s in range(1, 7)]
    assert len(result.exploits) >= 2
    for r in result.reports:
        assert r.score == r.metrics["eval_accuracy"]
        assert r.metrics["global_step"] == r.step * BATCHES_PER_EPOCH
        assert r.metrics["learning_rate"] == pytest.approx(result.hparams_at(r.member, r.step)["learning_rate"])
    check_updates(result, seen, 6, BATCHES_PER_EPOCH)
    assert max(r.score for r in result.reports) > 0.7


def test_a_step_per_eval_steps_resumes_mid_epoch_and_keeps_the_schedule_at_the_members_rate(tmp_path):
    seen = collections.defaultdict(list)
    # 3 optimizer steps a step: the segments start inside epochs; linear decay over 18 updates
    train = make_train(seen, tmp_path, eval_strategy="steps", eval_steps=3, max_steps=18, lr_scheduler_type="linear")
    result = run(tmp_path, train)
    assert sorted((r.member, r.step) for r in result.reports) == [(m, s) for m in range(4) for s in range(1, 7)]
    assert len(result.exploits) >= 2
    check_updates(result, seen, 6, 3, factor=lambda g: (18 - (g - 1)) / 18)


def test_resume_finishes_an_interrupted_run_without_duplicate_or_missing_steps(tmp_path):
    seen = collections.defaultdict(list)
    inner, calls = make_train(seen, tmp_path), []

    def flaky(member):
        calls.append(member.step)
        if len(calls) == 6:
            raise KeyboardInterrupt
        inner(member)

    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, flaky)
    partial = pt.Result.load(tmp_path).reports
    assert 0 < len(partial) < 24
    seen.clear()  # after resume, each member's updates continue from its last checkpoint (its last ready step)
    result = run(tmp_path, inner, resume=True)
    assert sorted((r.member, r.step) for r in result.reports) == [(m, s) for m in range(4) for s in range(1, 7)]
    for member, updates in seen.items():
        saved = max([r.step for r in partial if r.member == member and r.step % 2 == 0], default=0)
        assert [g for g, _, _ in updates] == list(range(saved * BATCHES_PER_EPOCH + 1, 6 * BATCHES_PER_EPOCH + 1))


def test_a_missing_monitored_metric_is_a_clear_error(tmp_path):
    with pytest.raises(pt.UsageError, match=r"monitor='eval_acc'.*metrics: \[.*'eval_accuracy'"):
        run(tmp_path, make_train(collections.defaultdict(list), tmp_path, monitor="eval_acc"), steps=3)


def test_a_trainer_not_resumed_from_the_members_state_is_a_clear_error(tmp_path):
    with pytest.raises(pt.UsageError, match=r"pass trainer.train\(resume_from_checkpoint=callback.resume_from\)"):
        run(tmp_path, make_train(collections.defaultdict(list), tmp_path, resume=False), steps=3)


def test_too_few_evaluations_for_the_budget_is_a_clear_error(tmp_path):
    with pytest.raises(pt.UsageError, match="evaluates 2 times.*num_train_epochs=member.budget"):
        run(tmp_path, make_train(collections.defaultdict(list), tmp_path, num_train_epochs=2), steps=3)
