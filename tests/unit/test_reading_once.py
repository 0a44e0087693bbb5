"""A fabric's files are parsed once per process within `reading_once`, and what one process read is handed to the
offline evaluations it runs: the documents are reused only for the very same text, and every problem is found
again."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from clusterfabric.components.model import InputError, load_fabric
from clusterfabric.components.model import load as load_module
from clusterfabric.components.model.load import documents_read, reading_once

FABRIC = "clusters:\n  - {name: c1, dataplane: clusterlink}\n"
SERVICE = "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: n}\nspec: {ports: [{port: 80}]}\n"


def fabric(tmp_path: Path, service: str = SERVICE) -> Path:
    (tmp_path / "fabric.yaml").write_text(FABRIC)
    (tmp_path / "c1").mkdir(exist_ok=True)
    (tmp_path / "c1" / "services.yaml").write_text(service)
    return tmp_path


def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    texts: list[str] = []
    real = load_module.load_documents
    monkeypatch.setattr(load_module, "load_documents", lambda text: texts.append(text) or real(text))
    return texts


def test_within_reading_once_a_file_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    directory, texts = fabric(tmp_path), parsed(monkeypatch)
    with reading_once():
        first, second = load_fabric(directory), load_fabric(directory)
    assert len(texts) == 2  # fabric.yaml and services.yaml, once each
    assert first.spec == second.spec and first.manifests["c1"].objects == second.manifests["c1"].objects
    load_fabric(directory)  # outside: parsed again, nothing kept
    assert len(texts) == 4 and documents_read() is None


def test_a_changed_file_is_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    directory, texts = fabric(tmp_path), parsed(monkeypatch)
    with reading_once():
        load_fabric(directory)
        fabric(tmp_path, SERVICE.replace("port: 80", "port: 81"))
        assert load_fabric(directory).manifests["c1"].services[0].spec.ports[0].port == 81
    assert len(texts) == 3


def test_what_is_handed_over_is_used_for_the_same_text_only_and_problems_are_found_again(tmp_path: Path,
                                                                                            monkeypatch):
    directory = fabric(tmp_path, SERVICE + "---\n" + SERVICE)  # the same object twice: refused
    with reading_once() as read:
        with pytest.raises(InputError) as before:
            load_fabric(directory)
    handed = pickle.loads(pickle.dumps(read))
    texts = parsed(monkeypatch)
    with reading_once(handed):
        with pytest.raises(InputError) as after:
            load_fabric(directory)
    assert texts == [] and str(after.value) == str(before.value)
    (directory / "c1" / "services.yaml").write_text(SERVICE)
    with reading_once(handed):
        assert load_fabric(directory).manifests["c1"].services[0].name == "s"
    assert texts == [SERVICE]


def test_an_offline_plan_with_what_was_read_handed_over_is_the_plan_made_without():
    from clusterfabric.offline.plan import plan
    from clusterfabric.toolchain import PROJECT_DIR

    def shown(result: dict) -> dict:  # the resources in the order registered, which varies from run to run
        return {stack: {**entry, "resources": sorted(json.dumps(r, sort_keys=True, default=str)
                                                     for r in entry["resources"])}
                for stack, entry in result["stacks"].items()}

    config = PROJECT_DIR / "config"
    without = plan(PROJECT_DIR, config, ["west", "cluster3"])
    with reading_once() as read:
        handed = plan(PROJECT_DIR, config, ["west", "cluster3"])
    assert read and shown(handed) == shown(without)
