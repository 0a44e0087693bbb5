"""Reading YAML strictly: what YAML would resolve silently, or what costs time out of all proportion, is refused
where it is written.

- A key written twice in one mapping: YAML keeps the last one without a word, so a second `port:` wins, a second
  `clusters:` drops the first list, a second `metadata:` renames the object.
- Nesting deeper than MAX_DEPTH levels: no manifest needs it, and libyaml's time grows with the square of the
  depth (20,000 levels cost seconds before anything could look at them).
- Aliases that expand to more than MAX_ALIAS_NODES nodes (an "alias bomb": a few lines that expand to millions of
  values once something walks them), and an alias inside the node it names (a structure that contains itself).

libyaml (C) still does the parsing; the composer here, PyYAML's own, builds the nodes from its events so that it
stops at the first level too deep, before the parser reaches the rest.

A fast path: when a cheap look at the text proves that none of these checks can be needed while composing (no
anchor or alias at all, and nesting bounded by MAX_DEPTH, `depth_bound`), libyaml's C composer builds the nodes
and a walk of them finds the duplicate keys, with the same fields and lines: composing in Python was half the time
of reading a fabric of a thousand clusters (bench/FINDINGS.md, issue 27).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import re

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

try:
    from yaml._yaml import CParser as _Parser

    class _FastLoader(_Parser, SafeConstructor, Resolver):  # type: ignore[misc]
        """yaml.CSafeLoader (libyaml composes the nodes), with StrictLoader's checks on the nodes as it constructs
        them."""

        def __init__(self, stream: str):
            _Parser.__init__(self, stream)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

        def build_document(self, node: Node) -> tuple[Any, list[DuplicateKey]]:
            duplicates: list[DuplicateKey] = []
            try:
                return self._build(node, [], duplicates), duplicates
            finally:  # what SafeConstructor.construct_document leaves
                self.constructed_objects, self.recursive_objects, self.state_generators = {}, {}, []
                self.deep_construct = False

        def _build(self, node: Node, path: list[str], duplicates: list[DuplicateKey]) -> Any:
            """The value of `node` as SafeConstructor makes it (common tags directly, any other by
            SafeConstructor), and StrictLoader's checks: duplicate keys, in its order and with its fields (a
            mapping's after those inside it), and the depth, should the bound of `fast_path` be wrong."""
            _check_depth(len(path) + 1, node.start_mark)
            tag = node.tag
            if tag in _SCALARS and type(node) is ScalarNode:
                return node.value if tag == _STR else self.yaml_constructors[tag](self, node)
            if tag == _SEQ and type(node) is SequenceNode:
                items = []
                for i, item in enumerate(node.value):
                    path.append(f"[{i}]")
                    items.append(self._build(item, path, duplicates))
                    path.pop()
                return items
            if tag == _MAP and type(node) is MappingNode:
                mapping: dict[Any, Any] = {}
                plain = True
                for key_node, value_node in node.value:
                    if type(key_node) is ScalarNode:
                        if key_node.tag in _MERGE:  # for SafeConstructor, once the values are checked
                            plain, key = False, None
                        else:
                            key = self._build(key_node, path, duplicates)
                        path.append(str(key_node.value))
                        value = self._build(value_node, path, duplicates)
                        path.pop()
                    else:
                        key = self._build(key_node, path, duplicates)
                        value = self._build(value_node, path, duplicates)
                    try:
                        mapping[key] = value
                    except TypeError:  # unhashable: SafeConstructor's own refusal below
                        plain = False
                duplicates += _duplicates(node, path)
                if plain:
                    return mapping
            return self.construct_object(node, deep=True)
except ImportError:  # PyYAML built without libyaml: the same events from the pure-Python parser
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser):  # type: ignore[no-redef]
        def __init__(self, stream: str):
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)

    _FastLoader = None  # type: ignore[assignment,misc]

_STR, _SEQ, _MAP = "tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"
_SCALARS = frozenset({_STR, *(f"tag:yaml.org,2002:{t}" for t in ("null", "bool", "int", "float"))})
_MERGE = frozenset({"tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"})
"""Keys SafeConstructor.flatten_mapping rewrites a mapping for."""

MAX_DEPTH = 64
"""Levels of nesting a document may have, aliases expanded: Kubernetes objects use about ten."""
MAX_ALIAS_NODES = 10_000
"""Nodes that all aliases of one document may add when expanded."""


class RefusedYAML(yaml.MarkedYAMLError):
    """A document refused as a whole (too deep, an alias bomb): the place is `problem_mark`."""


@dataclass(frozen=True)
class DuplicateKey:
    """A key written twice in one mapping."""

    field: str  # the key's path, as `spec.ports[0].port`
    line: int
    first_line: int

    @property
    def message(self) -> str:
        return (f"line {self.line}: written twice in one mapping (first at line {self.first_line}); YAML would "
                "silently keep the last one: remove one")


class StrictLoader(Composer, SafeConstructor, Resolver, _Parser):  # type: ignore[misc]
    """PyYAML's safe loader, composing the nodes itself (Composer before the parser, whose C composer would win)."""

    def __init__(self, stream: str):
        _Parser.__init__(self, stream)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self.duplicates: list[DuplicateKey] = []
        self._path: list[str] = []
        self._alias_nodes = 0
        self._shape: dict[int, tuple[int, int]] = {}  # id(node) -> (nodes, height), aliases expanded
        self._open: set[str] = set()  # anchors of the nodes being composed

    def compose_document(self) -> Node:
        self._alias_nodes, self._shape = 0, {}
        return super().compose_document()

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        part = _part(parent, index)
        event = self.peek_event()
        mark = event.start_mark
        if isinstance(event, AliasEvent):
            if event.anchor in self._open:
                raise RefusedYAML(None, None, f"alias *{event.anchor} inside the node it names: the value would "
                                  "contain itself", mark)
            node = super().compose_node(parent, index)
            nodes, height = self._expanded(node)
            self._alias_nodes += nodes
            if self._alias_nodes > MAX_ALIAS_NODES:
                raise RefusedYAML(None, None, f"aliases expand to more than {MAX_ALIAS_NODES} values; write the "
                                  "values out (is this an alias bomb?)", mark)
            _check_depth(len(self._path) + (part is not None) + height, mark)
            return node
        if part is not None:
            self._path.append(part)
        _check_depth(len(self._path) + 1, mark)
        anchor = getattr(event, "anchor", None)
        if anchor:
            self._open.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._open.discard(anchor)
            if part is not None:
                self._path.pop()

    def compose_mapping_node(self, anchor: str | None) -> Node:
        node = super().compose_mapping_node(anchor)
        self.duplicates += _duplicates(node, self._path)
        return node

    def _expanded(self, node: Node) -> tuple[int, int]:
        """(nodes, height) of `node` with its aliases expanded; remembered per node, so measuring costs what was
        written, not what it expands to."""
        known = self._shape.get(id(node))
        if known is not None:
            return known
        children: list[Node] = []
        if isinstance(node, SequenceNode):
            children = node.value
        elif isinstance(node, MappingNode):
            children = [n for pair in node.value for n in pair]
        nodes, height = 1, 0
        for child in children:
            n, h = self._expanded(child)
            nodes, height = nodes + n, max(height, h)
            if nodes > MAX_ALIAS_NODES:  # stop measuring a bomb early; the caller refuses it
                break
        self._shape[id(node)] = (nodes, height + 1)
        return nodes, height + 1


def _check_depth(depth: int, mark: yaml.Mark) -> None:
    if depth > MAX_DEPTH:
        raise RefusedYAML(None, None, f"nested deeper than {MAX_DEPTH} levels; no manifest needs that", mark)


def _duplicates(mapping: MappingNode, path: list[str]) -> list[DuplicateKey]:
    """The keys written twice in `mapping`, whose field path is `path`."""
    first: dict[tuple[str, str], Node] = {}
    found = []
    for key, _ in mapping.value:
        if isinstance(key, ScalarNode):
            earlier = first.setdefault((key.tag, key.value), key)
            if earlier is not key:
                found.append(DuplicateKey(_field([*path, str(key.value)]), key.start_mark.line + 1,
                                          earlier.start_mark.line + 1))
    return found


def _part(parent: Node | None, index: Any) -> str | None:
    """The field-path part of a node composed under `parent`: a key's value is `.key`, an item `[i]`; a key none."""
    if isinstance(parent, SequenceNode):
        return f"[{index}]"
    if isinstance(parent, MappingNode) and isinstance(index, ScalarNode):
        return str(index.value)
    return None


def _field(path: list[str]) -> str:
    return "".join(p if p.startswith("[") or i == 0 else f".{p}" for i, p in enumerate(path)) or "-"


def load_documents(text: str) -> Iterator[tuple[Any, list[DuplicateKey]]]:
    """Each document of `text` with the duplicate keys found in it; raises yaml.YAMLError (RefusedYAML among them)."""
    return fast_documents(text) if fast_path(text) else strict_documents(text)


def strict_documents(text: str) -> Iterator[tuple[Any, list[DuplicateKey]]]:
    """load_documents composing in Python (StrictLoader): for any text."""
    loader = StrictLoader(text)
    try:
        while loader.check_node():
            before = len(loader.duplicates)
            document = loader.construct_document(loader.get_node())
            yield document, loader.duplicates[before:]
    finally:
        loader.dispose()


def fast_documents(text: str) -> Iterator[tuple[Any, list[DuplicateKey]]]:
    """load_documents composing in C: only for a text that `fast_path` accepts (no alias is counted here)."""
    loader = _FastLoader(text)
    try:
        while loader.check_node():
            yield loader.build_document(loader.get_node())
    finally:
        loader.dispose()


_BREAK = "\n\r\x85\u2028\u2029"  # what libyaml takes for a line break
_INDENT = re.compile(f"(?:\\A|[{_BREAK}])([ \\t?:-]*)")
"""A line's indentation with the block indicators written in it (`- - `, `? `, `: `): no block collection starts
further right than that on its line."""
_DOCUMENT = re.compile(f"(?:\\A|[{_BREAK}])(?:---|\\.\\.\\.)(?=[ \\t{_BREAK}]|\\Z)")
"""A document marker: no flow collection continues past one (libyaml ends the document there, or fails)."""


def depth_bound(text: str) -> int | None:
    """An upper bound on the nesting depth of every document of `text`, or None when the text has an anchor or an
    alias (whose expansion only composing measures) or a byte order mark (which would hide an indentation).

    Block collections nest to the right: a child starts further right than its parent, or in the same column only
    as a sequence that is a mapping's value, so a chain of them spans at most two per column up to the widest
    indentation. Flow collections nest within one document, at most two levels per bracket written in it (a
    `[a: b]` holds a mapping no brace opens). Then one level for the scalar at the end.
    """
    if "&" in text or "*" in text or "\ufeff" in text:
        return None
    widest = max(len(indent) for indent in _INDENT.findall(text))
    brackets = max(part.count("[") + part.count("{") for part in _DOCUMENT.split(text))
    return 2 * (widest + 1) + 2 * brackets + 1


def fast_path(text: str) -> bool:
    """Whether `text` may be composed by libyaml: no check of StrictLoader's could stop it mid-way."""
    if _FastLoader is None:
        return False
    bound = depth_bound(text)
    return bound is not None and bound <= MAX_DEPTH

