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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

try:
    from yaml._yaml import CParser as _Parser
except ImportError:  # PyYAML built without libyaml: the same events from the pure-Python parser
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser):  # type: ignore[no-redef]
        def __init__(self, stream: str):
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)

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
            self._check_depth(len(self._path) + (part is not None) + height, mark)
            return node
        if part is not None:
            self._path.append(part)
        self._check_depth(len(self._path) + 1, mark)
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
        first: dict[tuple[str, str], Node] = {}
        for key, _ in node.value:
            if isinstance(key, ScalarNode):
                earlier = first.setdefault((key.tag, key.value), key)
                if earlier is not key:
                    self.duplicates.append(DuplicateKey(_field([*self._path, str(key.value)]),
                                                        key.start_mark.line + 1, earlier.start_mark.line + 1))
        return node

    def _check_depth(self, depth: int, mark: yaml.Mark) -> None:
        if depth > MAX_DEPTH:
            raise RefusedYAML(None, None, f"nested deeper than {MAX_DEPTH} levels; no manifest needs that", mark)

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
    loader = StrictLoader(text)
    try:
        while loader.check_node():
            before = len(loader.duplicates)
            document = loader.construct_document(loader.get_node())
            yield document, loader.duplicates[before:]
    finally:
        loader.dispose()
