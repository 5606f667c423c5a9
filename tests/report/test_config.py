import functools
import json
import subprocess
import sys

from poptune.report.config import config_rows, public_config, readable
from poptune.report.runs import settings_key


def train(member, noise=0.3):
    pass


class Agent:
    def train(self, member):
        pass


def test_readable_names_functions_partials_methods_and_objects_without_addresses():
    assert readable(repr(functools.partial(train, noise=0.3))) == "functools.partial(train, noise=0.3)"
    assert readable(repr(functools.partial(functools.partial(train, 1), noise=0.5))) == \
        "functools.partial(train, 1, noise=0.5)"
    assert readable(repr(Agent().train)) == "Agent.train"
    assert readable(repr(lambda m: m)) == "test_readable_names_functions_partials_methods_and_objects_without_addresses" \
                                           ".<locals>.<lambda>"
    assert readable(repr(Agent())) == f"{__name__}.Agent object"
    assert readable("Truncation(0.25)") == "Truncation(0.25)"  # (plain text stays as it is)


def test_public_config_drops_the_session_and_cleans_nested_texts():
    config = {"pid": 12, "host": "box", "train": repr(functools.partial(train, noise=0.3)),
              "runner": {"name": "processes", "init": repr(Agent().train)}, "metadata": {"notes": ["a", repr(train)]}}
    public = public_config(config)
    assert "pid" not in public and "host" not in public
    assert "0x" not in json.dumps(public)
    assert public["runner"]["init"] == "Agent.train" and public["metadata"]["notes"] == ["a", "train"]
    rows = dict(config_rows(config))
    assert rows["train"] == "functools.partial(train, noise=0.3)"
    assert rows["runner"] == '{"name": "processes", "init": "Agent.train"}'


def test_settings_key_is_the_same_in_another_process():
    # a function's address differs between processes; the settings of two seeds must not
    code = ("import functools, json; from tests.report.test_config import train; "
            "print(repr(functools.partial(train, noise=0.3)))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    here = repr(functools.partial(train, noise=0.3))
    config = {"population": 4, "steps": 8, "seed": 0, "exploit": "Truncation(0.25)"}
    assert settings_key({**config, "train": here}) == settings_key({**config, "train": other, "seed": 1})
    assert settings_key({**config, "train": here}) != settings_key({**config, "train": here, "exploit": None})
