"""Reading a fabric directory: `fabric.yaml` and each cluster's manifests.

Every problem found is collected and raised together as one InputError, so a
user fixes a whole file in one pass. Nothing here touches Pulumi.
"""

from __future__ import annotations

import errno
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml
from pydantic import BaseModel

from .errors import InputError, Problem
from . import clusterlink, gateway, lattice
from .fabric_yaml import FABRIC_FILE, FabricSpec
from .kubernetes import Service
from .validation import parse
from .yaml_strict import DuplicateKey, RefusedYAML, load_documents

# (apiVersion, kind) -> model. The ClusterLink and Lattice halves add theirs.
KINDS: dict[tuple[str, str], type[BaseModel]] = {
    ("v1", "Service"): Service,
    **clusterlink.KINDS,
    **lattice.KINDS,
    **gateway.KINDS,
}
CLUSTER_SCOPED = frozenset({"PrivilegedAccessPolicy"})


def display(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


MAX_FILE_BYTES = 4 * 1024 * 1024
"""A manifest file larger than this is refused: no fabric needs it, and YAML parsing time grows with it."""

Read = dict[str, tuple[str, list[tuple[Any, list[DuplicateKey]]]]]
"""Files' documents as read, by absolute path: the text, and each document with its duplicate keys."""
_read: Read | None = None


@contextmanager
def reading_once(handed: Read | None = None) -> Iterator[Read]:
    """Within: a file whose text was read before (in this process, or in the process that `handed` over what it
    read) is not parsed again. A plan reads the fabric, then the program it evaluates reads it again, in a process
    of its own, once per stack: at a thousand clusters each read took seconds (issue 27). Only the text's
    documents are kept: every problem is found again, each file's path shown as this process shows it."""
    global _read
    previous = _read
    if previous is None:
        _read = dict(handed or {})
    try:
        yield _read  # type: ignore[misc]
    finally:
        _read = previous


def documents_read() -> Read | None:
    """What was read within `reading_once` so far (None outside)."""
    return _read


def _documents(path: Path, text: str) -> list[tuple[Any, list[DuplicateKey]]]:
    read, key = _read, str(path.absolute())
    known = read.get(key) if read is not None else None
    if known is not None and known[0] == text:
        return known[1]
    documents = list(load_documents(text))
    if read is not None:
        read[key] = (text, documents)
    return documents


def read_yaml_documents(path: Path, describe: Callable[[Any], str] | None = None) -> Iterator[Any]:
    """The documents of a YAML file, read strictly (components.model.yaml_strict), with what is refused reported by
    file and line; an empty file is an error. `describe` names the object a document is (default: its
    `Kind/namespace/name`)."""
    shown = display(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError([Problem(shown, "-", "-", f"the file has {size} bytes; manifest files are "
                                      f"limited to {MAX_FILE_BYTES} bytes (split it)")])
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError([Problem(shown, "-", "-", f"cannot read the file: {err}")]) from None
    docs, problems = [], []
    try:
        for doc, duplicates in _documents(path, text):
            if doc is not None:
                docs.append(doc)
            problems += [Problem(shown, (describe or object_ref)(doc), d.field, d.message) for d in duplicates]
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(err, "problem", None) or str(err)
        what = "refused" if isinstance(err, RefusedYAML) else "YAML syntax error"
        raise InputError([Problem(shown, "-", "-", f"{what}{where}: {reason}")]) from None
    if problems:
        raise InputError(problems)
    if not docs:
        raise InputError([Problem(shown, "-", "-", "the file holds no object (empty, or only comments): "
                                  "remove it or add the manifest")])
    yield from docs


def load_fabric_spec(fabric_dir: Path) -> FabricSpec:
    path = fabric_dir / FABRIC_FILE
    problem = link_problem(path, fabric_dir.resolve(), frozenset()) if path.is_symlink() else None
    if problem:
        raise InputError([Problem(display(path), "-", "-", problem)])
    if not path.is_file():
        raise InputError([Problem(display(path), "-", "-", "no fabric.yaml: a fabric directory lists its clusters there")])
    docs = list(read_yaml_documents(path, describe=lambda _: "Fabric"))
    if len(docs) != 1:
        raise InputError([Problem(display(path), "-", "-", f"expected one YAML document, found {len(docs)}")])
    return parse(FabricSpec, docs[0], display(path), "Fabric")


@dataclass
class ClusterManifests:
    """The objects found in one cluster's directory, in file order."""

    cluster: str
    objects: list[BaseModel] = field(default_factory=list)
    sources: dict[int, str] = field(default_factory=dict)  # id(object) -> file it came from
    _by_kind: dict[type, list[Any]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _services: dict[tuple[str, str], Service] = field(default_factory=dict, init=False, repr=False, compare=False)
    _indexed: tuple[int, int] = field(default=(0, 0), init=False, repr=False, compare=False)

    def _index(self) -> dict[type, list[Any]]:
        """Objects by their exact class, rebuilt when `objects` changed (it is only ever appended to or replaced).

        Lookups were scans of every object, once per export or import: quadratic in a cluster's size.
        """
        state = (id(self.objects), len(self.objects))
        if state != self._indexed:
            self._by_kind = {}
            for obj in self.objects:
                self._by_kind.setdefault(type(obj), []).append(obj)
            services = [o for o in self.objects if isinstance(o, Service)]
            self._services = {(s.namespace, s.name): s for s in reversed(services)}  # the first one wins
            self._indexed = state
        return self._by_kind

    def of_kind(self, model: type[BaseModel]) -> list[Any]:
        by_kind = self._index()
        kinds = [k for k in by_kind if issubclass(k, model)]
        if len(kinds) <= 1:  # one class: its list is already in file order
            return list(by_kind[kinds[0]]) if kinds else []
        return [o for o in self.objects if isinstance(o, model)]

    def file_of(self, obj: BaseModel) -> str:
        return self.sources[id(obj)]

    def service(self, namespace: str, name: str) -> Service | None:
        self._index()
        return self._services.get((namespace, name))

    @property
    def services(self) -> list[Service]:
        return self.of_kind(Service)


def object_ref(doc: Any) -> str:
    """`Kind/namespace/name` of a raw manifest, as far as it can be read."""
    if not isinstance(doc, dict):
        return "-"
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    kind = _text(doc.get("kind", "?"))
    namespace = "-" if kind in CLUSTER_SCOPED else _text(meta.get("namespace", "default"))
    return f"{kind}/{namespace}/{_text(meta.get('name', '?'))}"


def _text(value: Any) -> str:
    """A part of an object's reference as written, quoted when it holds a control character or spaces (a problem
    stays on one line and shows them), or '?' when it is no plain string (a list, a mapping, a number)."""
    if not isinstance(value, str):
        return "?"
    return value if value.isprintable() and " " not in value else repr(value)


def ref(obj: BaseModel) -> str:
    """`Kind/namespace/name` of a parsed manifest."""
    kind = obj.kind  # type: ignore[attr-defined]
    meta = obj.metadata  # type: ignore[attr-defined]
    return f"{kind}/{'-' if kind in CLUSTER_SCOPED else meta.namespace}/{meta.name}"


NOT_CLUSTER_FOLDERS = frozenset({"rendered", "published", "pr"})
"""Folders beside fabric.yaml that hold what the tool and its workflows write (a fabric repository's rendered
manifests, what the deploy job publishes, the pull request's comment), never a cluster; hidden folders neither."""


def layout_problems(fabric_dir: Path, spec: FabricSpec) -> list[Problem]:
    """A cluster of fabric.yaml without its folder, and a folder of manifests that is no cluster: both what a
    renamed folder leaves (`mv client clients`), whose next `up` would remove everything `client` shares while
    the manifests in `clients/` were never read."""
    names = [c.name for c in spec.clusters]
    fabric_file = display(fabric_dir / FABRIC_FILE)
    problems = [Problem(fabric_file, "Fabric", f"clusters[{i}]", f"cluster {name!r} has no folder "
                        f"{display(fabric_dir / name)}: its stack would declare none of its manifests and remove "
                        "what it shares. Make the folder (empty for a cluster without manifests of its own), or "
                        "remove the cluster")
                for i, name in enumerate(names) if not (fabric_dir / name).is_dir()]
    for folder in sorted(fabric_dir.iterdir()):
        if (folder.is_dir() and folder.name not in names and not folder.name.startswith(".")
                and folder.name not in NOT_CLUSTER_FOLDERS and manifest_files(fabric_dir, folder)[0]):
            problems.append(Problem(display(folder), "-", "-", "a folder of manifests that is no cluster of "
                                    f"fabric.yaml (its clusters: {', '.join(names)}): nothing reads them. A renamed "
                                    "cluster? Name it in fabric.yaml's clusters, or remove the folder"))
    return problems


def load_cluster_manifests(fabric_dir: Path, cluster: str) -> ClusterManifests:
    """Parse every `*.yaml`/`*.yml` under `<fabric_dir>/<cluster>/`."""
    result = ClusterManifests(cluster)
    seen: dict[str, str] = {}
    files, problems = manifest_files(fabric_dir, fabric_dir / cluster)
    for path in files:
        try:
            docs = list(read_yaml_documents(path))
        except InputError as err:
            problems += err.problems
            continue
        shown = display(path)  # once per file: it asks the file system for the working directory
        for doc in docs:
            obj = _parse_object(doc, shown)
            if isinstance(obj, InputError):
                problems += obj.problems
                continue
            ref = object_ref(doc)
            if ref in seen:
                problems.append(Problem(shown, ref, "metadata.name", f"defined twice (first in {seen[ref]})"))
                continue
            seen[ref] = shown
            result.objects.append(obj)
            result.sources[id(obj)] = shown
    if problems:
        raise InputError(problems)
    return result


def manifest_files(fabric_dir: Path, folder: Path) -> tuple[list[Path], list[Problem]]:
    """The `*.yaml`/`*.yml` files under `folder`, and the symbolic links refused on the way (link_problem): a link
    that is refused would otherwise be skipped without a word, its manifests missing."""
    root, files, problems = fabric_dir.resolve(), [], []

    def visit(directory: Path, inside: frozenset[Path]) -> None:
        for entry in sorted(directory.iterdir()):
            if entry.is_symlink() and (entry.suffix in (".yaml", ".yml") or entry.is_dir() or not entry.exists()):
                problem = link_problem(entry, root, inside)
                if problem:
                    problems.append(Problem(display(entry), "-", "-", problem))
                    continue
            if entry.is_dir():
                visit(entry, inside | {entry.resolve()})
            elif entry.suffix in (".yaml", ".yml") and entry.is_file():
                files.append(entry)

    problem = link_problem(folder, root, frozenset()) if folder.is_symlink() else None
    if problem:
        return [], [Problem(display(folder), "-", "-", problem)]
    if folder.is_dir():
        visit(folder, frozenset({folder.resolve()}))
    return sorted(files), problems


def link_problem(link: Path, root: Path, inside: frozenset[Path]) -> str | None:
    """Why the symbolic link `link` is refused, or None: a loop, a link to nothing, a link out of the fabric
    directory `root` (what the fabric holds would depend on files elsewhere), a link to a folder it is in."""
    try:
        target = link.resolve(strict=True)
    except (RuntimeError, OSError) as err:  # Python 3.11 raises RuntimeError for a loop, later ones ELOOP
        if isinstance(err, RuntimeError) or err.errno == errno.ELOOP:
            return "a symbolic link that loops (it leads back to itself): put the file or folder itself there"
        return f"a symbolic link that leads nowhere ({err.strerror}): put the file or folder itself there, or remove it"
    if not target.is_relative_to(root):
        return f"a symbolic link out of the fabric directory (to {target}): copy what it points to in instead"
    if target in inside:
        return "a symbolic link to a folder it is in (a loop): remove it"
    return None


def _parse_object(doc: Any, file: str) -> BaseModel | InputError:
    ref = object_ref(doc)
    if not isinstance(doc, dict):
        return InputError([Problem(file, "-", "-", f"expected a Kubernetes object (a mapping), got {type(doc).__name__}")])
    for name in ("apiVersion", "kind"):
        if name in doc and not isinstance(doc[name], str):
            return InputError([Problem(file, ref, name, f"must be a string, got {type(doc[name]).__name__} "
                                       f"{doc[name]!r:.80}")])
    key = (doc.get("apiVersion"), doc.get("kind"))
    model = KINDS.get(key)  # type: ignore[arg-type]
    if model is None:
        known = ", ".join(sorted({f"{k} ({v.split('/')[0]})" for v, k in KINDS}))
        return InputError([Problem(file, ref, "kind", f"unknown apiVersion/kind {key[0]}/{key[1]}; known: {known}")])
    try:
        return parse(model, doc, file, ref)
    except InputError as err:
        return err
