"""The fast path of strict YAML (libyaml composes, components.model.yaml_strict.fast_path) reads what the strict
path reads: the same documents, the same duplicate keys (field, lines, order) and the same errors; and it is taken
only when no check could be needed mid-parse."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import yaml

from clusterfabric.toolchain import PROJECT_DIR
from clusterfabric.components.model import yaml_strict
from clusterfabric.components.model.yaml_strict import (MAX_DEPTH, depth_bound, fast_documents, fast_path,
                                                         strict_documents)

FIXTURES = sorted(p for folder in ("config", "examples", "tests/fixtures")
                  for p in (PROJECT_DIR / folder).rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def outcome(read: Callable[[str], Iterator[Any]], text: str) -> Any:
    try:
        return [(document, duplicates) for document, duplicates in read(text)]
    except yaml.YAMLError as err:
        return type(err).__name__, str(err)


def test_the_fixtures_are_many_and_most_take_the_fast_path():
    assert len(FIXTURES) >= 40
    assert sum(fast_path(p.read_text()) for p in FIXTURES) >= 0.8 * len(FIXTURES)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: str(p.relative_to(PROJECT_DIR)))
def test_each_fixture_reads_the_same_on_both_paths(path: Path):
    text = path.read_text()
    strict = outcome(strict_documents, text)
    if fast_path(text):
        assert outcome(fast_documents, text) == strict
    else:  # anchors or aliases: the documents alone (an alias shares its node, whose duplicates the walk repeats)
        assert [d for d, _ in outcome(fast_documents, text)] == [d for d, _ in strict]


CRAFTED = {
    "duplicates nested and in order": "a: 1\nb:\n  c: [x, {d: 1, d: 2}]\n  c: 3\na: 2\n",
    "duplicate in a list of mappings": "spec:\n  ports:\n  - port: 80\n    port: 81\n  - {name: x, name: y}\n",
    "duplicates in each document": "a: 1\na: 2\n---\n- b: 1\n  b: 1\n---\nc: {e: 1, e: 1}\n",
    "complex keys": "? {a: 1, a: 2}\n: {b: 1, b: 2}\n? [x, y]\n: z\n",
    "a string and an int key are different": "1: a\n'1': b\n1: c\n",
    "merge key written inline": "a:\n  <<: {x: 1, y: 2}\n  x: 3\n  x: 4\n",
    "merge key in a list": "a:\n  <<: [{x: 1}, {x: 2, x: 3}]\n  y: 1\n",
    "unhashable key": "? [a, b]\n: 1\n? {c: 1}\n: 2\n",
    "scalars of every tag": ("s: text\ni: 0x1F\no: 017\nf: 1.5e3\nb: yes\nn: ~\nt: 2024-01-02\n"
                             "d: 2024-01-02T03:04:05Z\nbin: !!binary aGk=\nset: !!set {a, b}\n"
                             "om: !!omap [{a: 1}, {b: 2}]\nstr: !!str 12\n"),
    "a tag nobody knows": "a: !custom 1\n",
    "a syntax error in the second document": "a: 1\na: 2\n---\nb: [1, 2\n",
    "a document marker inside a flow collection": "a: [1,\n---\n2]\n",
    "empty documents": "---\n---\n# only a comment\n",
    "windows line breaks": "a:\r\n  b: 1\r\n  b: 2\r\n",
    "deep but allowed": "x: " + "[" * 30 + "]" * 30 + "\n",
}


@pytest.mark.parametrize("case", CRAFTED)
def test_crafted_texts_read_the_same_on_both_paths(case: str):
    text = CRAFTED[case]
    assert outcome(fast_documents, text) == outcome(strict_documents, text)


def depth(node: yaml.Node) -> int:
    children = (node.value if isinstance(node, yaml.SequenceNode) else [v for pair in node.value for v in pair]
                if isinstance(node, yaml.MappingNode) else [])
    return 1 + max((depth(c) for c in children), default=0)


NESTED = {
    "flow sequences": "x: " + "[" * 40 + "]" * 40,
    "flow mappings": "x: " + "{a: " * 40 + "}" * 40,
    "implicit mappings in flow sequences": "x: " + "[a: " * 25 + "b" + "]" * 25,
    "block mappings": "".join(f"{'  ' * i}k{i}:\n" for i in range(40)) + "  " * 40 + "v\n",
    "sequences as mapping values, same column": "".join(f"{'  ' * i}k{i}:\n{'  ' * i}-\n" for i in range(20)) + "  " * 20 + "v\n",
    "compact sequences": "- " * 40 + "v\n",
    "compact mappings in sequences": "".join(f"{'  ' * i}- k{i}:\n" for i in range(20)) + "  " * 21 + "v\n",
    "explicit keys and values": "".join(f"{'  ' * i}? k\n{'  ' * i}: \n" for i in range(20)) + "  " * 20 + "v\n",
    "flow over lines": "a:\n" + "".join(" [\n" for _ in range(30)) + " x\n" + " ]\n" * 30,
    "carriage returns": "".join(f"{' ' * i}k{i}:\r" for i in range(40)) + " " * 40 + "v\r",
    "documents": "---\n" + "\n---\n".join("x: " + "[" * 20 + "]" * 20 for _ in range(5)) + "\n",
}


@pytest.mark.parametrize("case", NESTED)
def test_the_depth_bound_is_never_below_the_depth(case: str):
    text = NESTED[case]
    bound = depth_bound(text)
    assert bound is not None
    assert bound >= max(depth(n) for n in yaml.compose_all(text, Loader=yaml.SafeLoader))


def test_too_deep_anchors_aliases_or_a_byte_order_mark_take_the_strict_path():
    assert not fast_path("x: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH)
    assert not fast_path("".join(f"{'  ' * i}k{i}:\n" for i in range(MAX_DEPTH)) + "  " * MAX_DEPTH + "v\n")
    assert not fast_path("a: &x [1]\n")
    assert not fast_path("a: *x\n")
    assert not fast_path("\ufeff" + "a: 1\n")
    assert fast_path("a: 1\nb: [1, {c: 2}]\n")


def test_the_manifests_of_a_generated_fabric_take_the_fast_path(tmp_path: Path):
    from bench.generate import Shape, generate

    assert yaml_strict._FastLoader is not None, "PyYAML without libyaml: no fast path"
    generate(tmp_path, Shape(3, 5, 3, "clusterlink"))
    manifests = [p for p in tmp_path.rglob("*.yaml") if p.name != "fabric.yaml"]
    assert manifests and all(fast_path(p.read_text()) for p in manifests)


def test_the_refusals_still_come_from_the_strict_path():
    deep = "x: " + "[" * 20000 + "]" * 20000 + "\n"
    with pytest.raises(yaml_strict.RefusedYAML, match="nested deeper than 64"):
        list(yaml_strict.load_documents(deep))
    with pytest.raises(yaml_strict.RefusedYAML, match="alias \\*p inside the node it names"):
        list(yaml_strict.load_documents("a: &p [1, *p]\n"))
