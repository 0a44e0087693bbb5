"""The baseline program: the same provider resources as the components declare, declared flat.

To isolate what the components cost, the baseline must declare exactly what the
component program does (same classes, names, inputs, providers, dependencies)
and nothing else: no YAML, no model, no ComponentResource. Rather than write it
by hand (and let it drift), it is derived from a recording of the component
program run under mocks:

- `Recorder` wraps `pulumi.CustomResource.__init__` while the real program runs
  and notes each provider resource: its class, name, the keyword arguments its
  constructor received, its provider and `depends_on` (components there stand
  for their custom descendants);
- an input that was an Output is kept as one: a reference to the resource
  attribute it came from (`tg.arn`, `ca.cert_pem`; the mocks give every such
  attribute a unique value, so it is found by value), else its value behind an
  apply on the resources it depended on, secret if it was;
- `replay` declares the recorded resources in order, each through its own
  class's constructor with those arguments, no parent.

Mocks cannot run transforms (the engine runs them), so the recording drops
them; the one the product uses when rendering (delete before replace, on
every resource of the cluster) is given to every replayed resource instead.
In-process transformations do run: the recording keeps the properties they
return, so the replay declares what they made.

StackReferences are reads, not provider resources, and are left out.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime.sync_await import _sync_await

from clusterfabric.components.model.json_values import DESCEND, rebuilt

# Resource attributes other resources' inputs may point at (Python names), besides `id`.
REFERENCED_ATTRIBUTES = ("arn", "listener_id", "cert_pem", "key_pem")
SKIPPED = ("pulumi:pulumi:StackReference",)
DYNAMIC_PROVIDER_KEY = "__provider"


def class_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def load_class(path: str) -> type:
    """The class at `module:qualname`, taken from the package that exports it when it does.

    The SDKs define `Service` in module `...core.v1.Service` and export it from `...core.v1`; importing the
    module itself would rebind the package's `Service` attribute to the module, so the package comes first.
    """
    module, _, name = path.partition(":")
    package = module.rpartition(".")[0]
    if package and "." not in name:
        found = getattr(importlib.import_module(package), name, None)
        if isinstance(found, type) and f"{found.__module__}:{found.__qualname__}" == path:
            return found
    found = importlib.import_module(module)
    for part in name.split("."):
        found = getattr(found, part)
    return found


def constructor_arguments(cls: type, transformed: dict[str, Any] | None = None) -> dict[str, Any]:
    """The arguments the class's constructor passed on, read from its `_internal_init` frame (set ones only).

    Generated SDK classes funnel every constructor through `_internal_init`,
    which then calls up to `CustomResource.__init__`: its parameters are what
    the caller gave, before the class turned some into props of its own (a
    provider JSON-encodes lists, for instance).
    """
    accepted = inspect.signature(cls._internal_init).parameters  # type: ignore[attr-defined]
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_name != "_internal_init":
        frame = frame.f_back
    if frame is None:
        raise RuntimeError(f"{class_path(cls)} was not built through _internal_init: the replay cannot copy it")
    skip = {"__self__", "resource_name", "opts", "__props__"}
    given = {**frame.f_locals, **(transformed or {})}  # what a transformation returned, under the same names
    return {k: v for k, v in given.items() if k in accepted and k not in skip and v is not None}


def _noting(transformation: Any) -> Any:
    """`transformation`, also leaving the properties it returns on the resource (the last one's win)."""
    if getattr(transformation, "_bench_noting", False):
        return transformation

    def noting(args: pulumi.ResourceTransformationArgs) -> Any:
        result = transformation(args)
        if result is not None:
            args.resource._bench_transformed = dict(result.props)
        return result

    noting._bench_noting = True  # type: ignore[attr-defined]
    return noting


@dataclass
class Recorded:
    """A provider resource as the component program declared it."""

    resource: pulumi.CustomResource
    cls: str
    type: str
    name: str
    arguments: dict[str, Any]
    dynamic_provider: str | None
    depends_on: list[Any]
    secret_outputs: list[str]


@dataclass
class Recorder:
    """Notes every provider resource the program declares (install before the program runs)."""

    entries: list[Recorded] = field(default_factory=list)
    outputs: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    """(type, name) -> the attributes the mocks answered with, to find references by value."""

    def install(self) -> None:
        recorder = self
        original_resource = pulumi.Resource.__init__
        original_custom = pulumi.CustomResource.__init__
        original_dynamic = pulumi.dynamic.Resource.__init__

        def dynamic_init(res, provider, name, props, opts=None):
            res._bench_provider = provider
            res._bench_props = dict(props)  # the inputs as given, before the provider is serialized into them
            original_dynamic(res, provider, name, props, opts)

        def custom_init(res, t, name, props=None, opts=None, *args, **kwargs):
            original_custom(res, t, name, props, opts, *args, **kwargs)
            if t not in SKIPPED:
                recorder._note(res, t, name, props, opts or pulumi.ResourceOptions())

        def resource_init(res, *args, **kwargs):
            bound = inspect.signature(original_resource).bind(res, *args, **kwargs)
            opts = bound.arguments.get("opts")
            if opts is not None and (opts.transforms or opts.transformations):
                bound.arguments["opts"] = opts = pulumi.ResourceOptions.merge(opts, None)
                opts.transforms = None
                opts.transformations = [_noting(t) for t in opts.transformations or []] or None
            original_resource(*bound.args, **bound.kwargs)

        pulumi.Resource.__init__ = resource_init  # type: ignore[method-assign]
        pulumi.CustomResource.__init__ = custom_init  # type: ignore[method-assign]
        pulumi.dynamic.Resource.__init__ = dynamic_init  # type: ignore[method-assign]

    def _note(self, res: pulumi.CustomResource, t: str, name: str, props: Any, opts: pulumi.ResourceOptions) -> None:
        provider = getattr(res, "_bench_provider", None)
        if provider is not None:
            arguments = {k: v for k, v in res._bench_props.items() if k != DYNAMIC_PROVIDER_KEY}  # type: ignore[attr-defined]
        else:
            arguments = constructor_arguments(type(res), getattr(res, "_bench_transformed", None))
        depends = opts.depends_on if isinstance(opts.depends_on, list) else ([opts.depends_on] if opts.depends_on else [])
        self.entries.append(Recorded(res, class_path(type(res)), t, name, arguments,
                                     class_path(type(provider)) if provider is not None else None,
                                     list(depends), list(opts.additional_secret_outputs or [])))

    def spec(self, render: bool) -> dict[str, Any]:
        """The recording as JSON-able data (call once the program has finished: every Output is resolved)."""
        index = {id(e.resource): i for i, e in enumerate(self.entries)}
        by_value: dict[Any, tuple[int, str]] = {}
        for i, entry in enumerate(self.entries):
            for attribute, value in self.outputs.get((entry.type, entry.name), {}).items():
                if isinstance(value, str):
                    by_value.setdefault(value, (i, attribute))
        encoder = _Encoder(index, by_value)
        resources = []
        for entry in self.entries:
            provider = getattr(entry.resource, "_provider", None)
            resources.append({
                "class": entry.cls, "name": entry.name,
                "arguments": encoder.encode(entry.arguments),
                "dynamicProvider": entry.dynamic_provider,
                "provider": index.get(id(provider)) if provider is not None and provider is not entry.resource else None,
                "dependsOn": sorted({i for d in entry.depends_on for i in encoder.customs(d)}),
                "secretOutputs": entry.secret_outputs,
            })
        return {"render": render, "resources": resources}


@dataclass
class _Encoder:
    index: dict[int, int]
    by_value: dict[Any, tuple[int, str]]

    def customs(self, resource: Any) -> list[int]:
        """The recorded resources `resource` stands for: itself, or a component's custom descendants."""
        if id(resource) in self.index:
            return [self.index[id(resource)]]
        return [i for child in getattr(resource, "_childResources", ()) for i in self.customs(child)]

    def encode(self, value: Any) -> Any:
        def at(node: Any) -> Any:
            if isinstance(node, pulumi.Output):
                return self._output(node)
            return [self.encode(v) for v in node] if isinstance(node, tuple) else DESCEND

        return rebuilt(value, at)

    def _output(self, output: pulumi.Output) -> dict[str, Any]:
        value = _sync_await(output.future())
        secret = _sync_await(output.is_secret())
        depends = sorted({i for r in _sync_await(output.resources()) for i in self.customs(r)})
        if isinstance(value, str) and value in self.by_value and self.by_value[value][0] in depends:
            resource, attribute = self.by_value[value]
            return {"$ref": [resource, attribute], "secret": secret}
        return {"$out": self.encode(value), "dependsOn": depends, "secret": secret}


def _decode(value: Any, made: list[pulumi.CustomResource]) -> Any:
    return rebuilt(value, lambda node: _decoded_output(node, made) if isinstance(node, dict) and (
        "$ref" in node or "$out" in node) else DESCEND)


def _decoded_output(value: dict[str, Any], made: list[pulumi.CustomResource]) -> pulumi.Output:
    """The Output an encoded `{"$ref": ...}` or `{"$out": ...}` stands for."""
    if "$ref" in value:
        resource, attribute = value["$ref"]
        output = getattr(made[resource], attribute)
    else:
        plain = value["$out"]
        output = (pulumi.Output.all(*[made[i].urn for i in value["dependsOn"]]).apply(lambda _, v=plain: v)
                  if value["dependsOn"] else pulumi.Output.from_input(plain))
    return pulumi.Output.secret(output) if value["secret"] else output


def preload(spec: dict[str, Any]) -> None:
    """Import every class the replay uses, so the measured part declares and does not import."""
    for entry in spec["resources"]:
        load_class(entry["class"])
        if entry["dynamicProvider"]:
            load_class(entry["dynamicProvider"])


def replay(spec: dict[str, Any], render_directory: str | None = None) -> list[pulumi.CustomResource]:
    """Declare the recorded resources flat. `render_directory` replaces the Kubernetes provider's, if given."""
    made: list[pulumi.CustomResource] = []
    for entry in spec["resources"]:
        cls = load_class(entry["class"])
        arguments = _decode(entry["arguments"], made)
        if render_directory is not None and "render_yaml_to_directory" in arguments:
            arguments["render_yaml_to_directory"] = render_directory
        opts = pulumi.ResourceOptions(
            provider=made[entry["provider"]] if entry["provider"] is not None else None,
            depends_on=[made[i] for i in entry["dependsOn"]] or None,
            additional_secret_outputs=entry["secretOutputs"] or None,
            # What the Cluster component's transform gives every resource when rendering.
            delete_before_replace=True if spec["render"] else None,
        )
        if entry["dynamicProvider"]:
            resource = cls.__new__(cls)
            pulumi.dynamic.Resource.__init__(resource, load_class(entry["dynamicProvider"])(), entry["name"],
                                             arguments, opts)
        else:
            resource = cls(entry["name"], opts=opts, **arguments)
        made.append(resource)
    return made


def read_spec(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())
