"""VPC Lattice checks inside one cluster: each object against the others of its cluster's manifests.

What holds between clusters is checked on the fabric's desired state (components.model.lattice_rules), and a
ServiceImport matching no export where it is resolved (components.model.lattice_imports). A problem is what the
controller refuses (a route it does not accept or resolve, a policy whose target it does not find); what it
ignores or takes as written is a warning. docs/lattice.md lists each with its source.
"""

from __future__ import annotations

from .errors import Problem
from .fabric_yaml import ClusterSpec
from .gateway import LISTENER_PROTOCOLS, ROUTE_KINDS, Gateway
from .lattice import (FEDERATION, FEDERATION_VALUE, SERVICE_NAME_OVERRIDE, IAMAuthPolicy, ServiceExport,
                      ServiceImport, TargetGroupPolicy, VpcAssociationPolicy)
from .lattice_names import route_service_name
from .limits import service_name_problem
from .load import ClusterManifests, ref
from .routes import gateway_listeners, priority_typos, routes, rule_priorities, rules, service_imports

LATTICE_KINDS = (ServiceExport, ServiceImport, TargetGroupPolicy, IAMAuthPolicy, VpcAssociationPolicy, Gateway,
                 *ROUTE_KINDS)
IGNORED_RULE_FIELDS = {
    "filters": "VPC Lattice has no request or response filters (header modifiers, redirects, rewrites, mirrors)",
    "sessionPersistence": "VPC Lattice has no session persistence",
    "retry": "VPC Lattice does not retry requests",
}
"""Route rule fields the controller does not read, and why Lattice has nothing to map them to."""


def check_cluster(spec: ClusterSpec, manifests: ClusterManifests) -> tuple[list[Problem], list[Problem]]:
    """(problems, warnings) inside one Lattice cluster."""
    problems: list[Problem] = []
    warnings: list[Problem] = []

    def say(into: list[Problem], obj, field: str, message: str) -> None:
        into.append(Problem(manifests.file_of(obj), ref(obj), field, message))

    if spec.dataplane != "lattice":
        for obj in manifests.objects:
            if isinstance(obj, LATTICE_KINDS):
                say(warnings, obj, "kind", f"ignored: cluster {spec.name!r} uses dataplane {spec.dataplane}, and "
                    "VPC Lattice objects take effect in clusters with dataplane lattice only")
        return problems, warnings

    for export in manifests.of_kind(ServiceExport):
        if not export.federated:
            say(warnings, export, "metadata.annotations", f"ignored: without the annotation {FEDERATION}: "
                f"{FEDERATION_VALUE} the controller does not export it, and neither does the program")
            continue
        for dropped in export.dropped_annotations():
            say(warnings, export, "metadata.annotations", f"{dropped}: dropped, as the controller drops them: ports "
                "are 1-65535; tags are key=value, keys up to 128 and values up to 256 characters of letters, digits, "
                "spaces and _.:/=+-@, the first of each key, at most 50, none starting with aws: or "
                "application-networking.k8s.aws/")
        ns = export.metadata.namespace
        service = manifests.service(ns, export.service)
        if service is None:
            say(problems, export, "metadata.name", f"no Service {ns}/{export.service} in this cluster's manifests "
                "to export (the service-name annotation names another one)")
            continue
        ports = {p.port for p in service.spec.ports}
        for i, exported in enumerate(export.exported_ports(sorted(ports))):
            if exported.port not in ports:
                say(problems, export, f"spec.exportedPorts[{i}].port",
                    f"Service {ns}/{export.service} has no port {exported.port} (its ports: "
                    f"{', '.join(map(str, sorted(ports)))})")

    gateways = {g.metadata.name: g for g in manifests.of_kind(Gateway)}
    imports = service_imports(manifests)
    used_imports: set[tuple[str, str]] = set()
    declared_routes = routes(manifests)
    route_names = {(r.kind, r.metadata.namespace, r.metadata.name) for r in declared_routes}
    for route in declared_routes:
        problem = service_name_problem(route_service_name(route))
        if problem:
            say(problems, route, "metadata.name", f"{problem}; set the annotation {SERVICE_NAME_OVERRIDE}")
        for field, message in rule_priorities(route)[1]:
            say(problems, route, field, message)
        for field, message in [*priority_typos(route), *_taken_as_written(route)]:
            say(warnings, route, field, message)
        for i, parent in enumerate(route.spec.parentRefs):
            gateway = gateways.get(parent.name)
            if gateway is None:
                say(problems, route, f"spec.parentRefs[{i}].name", f"no Gateway {parent.name!r} in this cluster's "
                    f"manifests (Gateways: {', '.join(sorted(gateways)) or 'none'})")
                continue
            names = [listener.name for listener in gateway.spec.listeners]
            if parent.sectionName and parent.sectionName not in names:
                say(problems, route, f"spec.parentRefs[{i}].sectionName", f"Gateway {parent.name!r} has no listener "
                    f"{parent.sectionName!r} (listeners: {', '.join(names)})")
        if not problems and not gateway_listeners(route, gateways):
            say(problems, route, "spec.parentRefs", f"no listener of its Gateways accepts a {route.kind} (protocols "
                f"{' or '.join(LISTENER_PROTOCOLS[route.kind])})")
        for backend in (b for rule in rules(route, imports) for b in rule):
            where, ns, name, port = backend.field, backend.namespace, backend.ref.name, backend.ref.port
            if backend.ref.kind == "Service":
                service = manifests.service(ns, name)
                if service is None:
                    say(problems, route, f"{where}.name", f"no Service {ns}/{name} in this cluster's manifests")
                elif port is None:
                    say(problems, route, f"{where}.port", "a Service backend needs its port")
                elif port not in {p.port for p in service.spec.ports}:
                    say(problems, route, f"{where}.port", f"Service {ns}/{name} has no port {port}")
                continue
            if backend.service_import is None:
                say(problems, route, f"{where}.name", f"no ServiceImport {ns}/{name} in this cluster's manifests")
                continue
            used_imports.add((ns, name))
            if port is not None:
                say(warnings, route, f"{where}.port", "the port of a ServiceImport backend is ignored (the "
                    "exported port is used, as with the AWS controller)")

    for (ns, name), imp in sorted(imports.items()):
        if (ns, name) not in used_imports:
            say(warnings, imp, "metadata.name", "no route uses this ServiceImport: a ServiceImport only takes effect "
                "as a route's backendRef")

    for policy in manifests.of_kind(TargetGroupPolicy):
        target = policy.spec.targetRef
        ns = target.namespace or policy.metadata.namespace
        found = (manifests.service(ns, target.name) if target.kind == "Service" else
                 any(e.metadata.namespace == ns and e.metadata.name == target.name
                     for e in manifests.of_kind(ServiceExport)))
        if not found:
            say(problems, policy, "spec.targetRef", f"no {target.kind} {ns}/{target.name} in this cluster's manifests")
        overlong = policy.spec.healthCheck.timeout_above_interval() if policy.spec.healthCheck else None
        if overlong:
            say(warnings, policy, "spec.healthCheck.timeoutSeconds", overlong)
        if policy.spec.healthCheck and spec.lattice and spec.lattice.targets.mode == "alb":
            say(warnings, policy, "spec.healthCheck", "ignored: this cluster's targets are an ALB (targets mode alb), "
                "and VPC Lattice does not health-check ALB target groups; the ALB's own target groups do")
    for policy in (*manifests.of_kind(IAMAuthPolicy), *manifests.of_kind(VpcAssociationPolicy)):
        target = policy.spec.targetRef
        ns = target.namespace or policy.metadata.namespace
        found = target.name in gateways if target.kind == "Gateway" else (target.kind, ns, target.name) in route_names
        if not found:
            say(problems, policy, "spec.targetRef", f"no {target.kind} {target.name!r} in this cluster's manifests")
    return problems, warnings


def _taken_as_written(route) -> list[tuple[str, str]]:
    """(field, message) of what the controller builds as written although it does not do what it seems to ask:
    rule fields it does not read, a rule without backends, and one whose backends all have weight 0."""
    found = []
    for i, rule in enumerate(route.spec.rules):
        found += [(f"spec.rules[{i}].{name}", f"ignored: {why}, and the controller builds the rule without it")
                  for name, why in IGNORED_RULE_FIELDS.items() if getattr(rule, name, None) is not None]
        if not rule.backendRefs:
            found.append((f"spec.rules[{i}].backendRefs", "no backend: the rule answers 500, as the Gateway API says "
                          "and the controller builds it"))
        elif not any(backend.weight for backend in rule.backendRefs):
            found.append((f"spec.rules[{i}].backendRefs", "every backend has weight 0: the Gateway API answers such "
                          "a rule with 500, but the controller sends its forward action with these weights, as the "
                          "program does, and VPC Lattice documents neither a refusal nor where it then forwards"))
    return found
