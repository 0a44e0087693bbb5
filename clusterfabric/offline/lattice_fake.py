"""A stateful fake of the Amazon VPC Lattice API, behind the offline plan's mocks and the unit tests' mocks.

It keeps what each stack created, per account and Region, and refuses every create the Lattice API would
refuse, with AWS's error names:

- ValidationException: a value outside the API model (botocore's `vpc-lattice` 2022-11-30 service model: the
  lengths, patterns, ranges and enums of each field), and what the API documents as unsupported (a health
  check on an ALB target group, a protocol version on a TCP one, rules on a TLS passthrough listener or one on a
  service without a custom domain name, a target group of the wrong protocol behind a listener);
- ConflictException: a service network, service or target group name taken in the account and Region, a VPC
  already associated with that or another service network, a service already associated with a network, a
  listener name or port or a rule name or priority taken, a target group another service already uses;
- ServiceQuotaExceededException: listeners per service and rules per listener, at Lattice's default quotas or
  the raised ones the fabric declares;
- ResourceNotFoundException: an identifier of nothing in the caller's account and Region.

So a plan of a fabric fails exactly where `up` on AWS would. Its limits are written here from the API model
and the quota page, not taken from the program's own `components.model.limits`: a judge that shares the
program's constants would agree with its mistakes.
"""

from __future__ import annotations

import fcntl
import ipaddress
import json
import re
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

Scope = tuple[str, str]  # account id, Region

# --- the API model (botocore vpc-lattice 2022-11-30) ------------------------------------------------------

NAME = r"(?![-])(?!.*[-]$)(?!.*[-]{{2}})"
NAMES = {  # kind: (pattern, min, max)
    "ServiceNetwork": (NAME.format() + r"[a-z0-9-]+", 3, 63),
    "Service": (r"(?!svc-)" + NAME.format() + r"[a-z0-9-]+", 3, 40),
    "TargetGroup": (r"(?!tg-)" + NAME.format() + r"[a-z0-9-]+", 3, 128),
    "Listener": (r"(?!listener-)" + NAME.format() + r"[a-z0-9-]+", 3, 63),
    "Rule": (r"(?!rule-)" + NAME.format() + r"[a-z0-9-]+", 3, 63),
}
ARN = r"arn:[a-z0-9\-]+:vpc-lattice:[a-zA-Z0-9\-]+:\d{12}:"
IDENTIFIERS = {  # kind: (pattern, min length)
    "ServiceNetwork": (r"((sn-[0-9a-z]{17})|(" + ARN + r"servicenetwork/sn-[0-9a-z]{17}))", 3),
    "Service": (r"((svc-[0-9a-z]{17})|(" + ARN + r"service/svc-[0-9a-z]{17}))", 17),
    "TargetGroup": (r"((tg-[0-9a-z]{17})|(" + ARN + r"targetgroup/tg-[0-9a-z]{17}))", 17),
    "Listener": (r"((listener-[0-9a-z]{17})|(" + ARN + r"service/svc-[0-9a-z]{17}/listener/listener-[0-9a-z]{17}))",
                 20),
}
VPC_ID = r"vpc-(([0-9a-z]{8})|([0-9a-z]{17}))"
SECURITY_GROUP_ID = r"sg-(([0-9a-z]{8})|([0-9a-z]{17}))"
CERTIFICATE_ARN = r"(arn(:[a-z0-9]+([.-][a-z0-9]+)*){2}(:([a-z0-9]+([.-][a-z0-9]+)*)?){2}:certificate/[0-9a-z-]+)?"
DESTINATION_ARN = r"arn(:[a-z0-9]+([.-][a-z0-9]+)*){2}(:([a-z0-9]+([.-][a-z0-9]+)*)?){2}:([^/].*)?"
PATH = r"/[a-zA-Z0-9@:%_+.~#?&/=-]*"
HEALTH_CHECK_PATH = r".*(^/[a-zA-Z0-9@:%_+.~#?&/=-]*$|(^$)).*"
HTTP_CODE = r".*(^[0-9-,]+$|(^$)).*"
AUTH_TYPES = ("NONE", "AWS_IAM")
LISTENER_PROTOCOLS = ("HTTP", "HTTPS", "TLS_PASSTHROUGH")
TARGET_GROUP_TYPES = ("IP", "LAMBDA", "INSTANCE", "ALB")
TARGET_GROUP_PROTOCOLS = ("HTTP", "HTTPS", "TCP")
TARGET_GROUP_VERSIONS = ("HTTP1", "HTTP2", "GRPC")
HEALTH_CHECK_VERSIONS = ("HTTP1", "HTTP2")
IP_ADDRESS_TYPES = ("IPV4", "IPV6")
HEALTH_CHECK_RANGES = {"healthCheckIntervalSeconds": (0, 300), "healthCheckTimeoutSeconds": (0, 120),
                       "healthyThresholdCount": (0, 10), "unhealthyThresholdCount": (0, 10), "port": (0, 65535)}
TAGS_PER_RESOURCE, TAG_KEY, TAG_VALUE = 200, (1, 128), (0, 256)
WEIGHTED_TARGET_GROUPS, WEIGHT, STATUS_CODE, PRIORITY = (1, 10), (0, 999), (100, 599), (1, 2000)
HEADER_MATCHES, HEADER_NAME, MATCH_VALUE = (1, 5), (1, 100), (1, 200)
SECURITY_GROUPS = 5
AUTH_POLICY_BYTES = 10 * 1024  # quota "Auth policy size", not adjustable
# Quotas (Quotas for Amazon VPC Lattice), per account and Region; the first two AWS can raise.
DEFAULT_QUOTAS = {"listenersPerService": 2, "rulesPerListener": 10}  # the quotas page (older copies said 5 rules)


class LatticeError(Exception):
    """A refusal, as the Lattice API would answer: its error name, the operation, and why."""

    def __init__(self, code: str, operation: str, message: str):
        super().__init__(f"{code}: {operation}: {message}")
        self.code, self.operation, self.message = code, operation, message


def _invalid(operation: str, where: str, value: Any, constraint: str) -> LatticeError:
    return LatticeError("ValidationException", operation, f"1 validation error detected: Value {value!r} at "
                        f"'{where}' failed to satisfy constraint: Member must {constraint}")


@dataclass
class Call:
    """One create, in the API's terms: validates each field as the API model says."""

    operation: str
    inputs: dict[str, Any]

    def get(self, path: str) -> Any:
        value: Any = self.inputs
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def string(self, path: str, low: int, high: int, pattern: str | None = None, required: bool = True) -> str | None:
        value = self.get(path)
        if value is None:
            if required:
                raise _invalid(self.operation, path, value, "not be null")
            return None
        if not isinstance(value, str) or not low <= len(value) <= high:
            raise _invalid(self.operation, path, value, f"have length between {low} and {high}")
        if pattern is not None and not re.fullmatch(pattern, value):
            raise _invalid(self.operation, path, value, f"satisfy regular expression pattern: {pattern}")
        return value

    def integer(self, path: str, low: int, high: int, required: bool = True, value: Any = None) -> int | None:
        value = self.get(path) if value is None else value
        if value is None:
            if required:
                raise _invalid(self.operation, path, value, "not be null")
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise _invalid(self.operation, path, value, f"have value between {low} and {high}")
        return value

    def enum(self, path: str, choices: Iterable[str], required: bool = True) -> str | None:
        value = self.get(path)
        if value is None and not required:
            return None
        if value not in tuple(choices):
            raise _invalid(self.operation, path, value, f"satisfy enum value set: [{', '.join(choices)}]")
        return value

    def count(self, path: str, items: list | None, bounds: tuple[int, int], required: bool = True) -> list:
        if items is None and not required:
            return []
        low, high = bounds
        if not isinstance(items, list) or not low <= len(items) <= high:
            raise _invalid(self.operation, path, items, f"have length between {low} and {high}")
        return items

    def tags(self) -> None:
        tags = self.get("tags") or {}
        if len(tags) > TAGS_PER_RESOURCE:
            raise _invalid(self.operation, "tags", f"{len(tags)} tags", f"have at most {TAGS_PER_RESOURCE} entries")
        for key, value in tags.items():
            if not TAG_KEY[0] <= len(key) <= TAG_KEY[1] or key.lower().startswith("aws:"):
                raise _invalid(self.operation, "tags", key, "be a tag key of 1-128 characters, not starting with aws:")
            if not isinstance(value, str) or len(value) > TAG_VALUE[1]:
                raise _invalid(self.operation, f"tags.{key}", value, "have length between 0 and 256")

    def refuse(self, code: str, message: str) -> LatticeError:
        return LatticeError(code, self.operation, message)


# --- the state -----------------------------------------------------------------------------------------------


@dataclass
class Record:
    """A resource one stack created."""

    kind: str
    """ServiceNetwork, Service, TargetGroup, Listener, Rule, VpcAssociation, ServiceAssociation, AuthPolicy,
    AccessLogSubscription, Target."""
    id: str
    arn: str | None
    stack: str
    resource: str
    """The Pulumi resource name that created it."""
    name: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.resource} of stack {self.stack}" if self.stack else f"{self.arn or self.id} (outside the fabric)"


@dataclass
class Region:
    """One account and Region's Lattice resources, indexed by kind and by each field they were created with (a
    fabric of thousands of target groups is checked without scanning them all at each create)."""

    records: dict[str, Record] = field(default_factory=dict)
    _index: dict[tuple, list[Record]] = field(default_factory=dict, repr=False)

    def add(self, record: Record) -> None:
        self.records[record.id] = record
        for key in self._keys(record):
            self._index.setdefault(key, []).append(record)

    def keep(self, wanted: Callable[[Record], bool]) -> None:
        """Only the records `wanted` says to keep."""
        kept = [r for r in self.records.values() if wanted(r)]
        self.records, self._index = {}, {}
        for record in kept:
            self.add(record)

    @staticmethod
    def _keys(record: Record) -> Iterable[tuple]:
        yield (record.kind,)
        yield (record.kind, "name", record.name)
        yield (record.kind, "id", record.id)
        yield (record.kind, "id", record.arn)
        for key, value in record.fields.items():
            if isinstance(value, (str, int)):
                yield (record.kind, key, value)

    def of(self, kind: str, **fields: Any) -> list[Record]:
        """The records of `kind` created with these fields (those set later, as which service a target group
        serves, are not looked up here)."""
        if not fields:
            return list(self._index.get((kind,), []))
        (key, value), *rest = fields.items()
        return [r for r in self._index.get((kind, key, value), [])
                if all((r.name if k == "name" else r.fields.get(k)) == v for k, v in rest)]

    def find(self, kind: str, identifier: str) -> Record | None:
        found = self._index.get((kind, "id", identifier))
        return found[0] if found else None


def _id_of(identifier: str) -> str:
    return identifier.rsplit("/", 1)[-1]


class LatticeFake:
    """The Lattice API of every account and Region a fabric uses. `apply` records a stack's create (or why it
    was refused); `replay` does it for every resource of a stack's plan, as `pulumi up` of that stack would."""

    def __init__(self, quotas: dict[Scope, dict[str, int]] | None = None):
        self.quotas = quotas or {}
        self.regions: dict[Scope, Region] = {}
        self.failed: set[str] = set()
        self.lock = threading.Lock()

    def region(self, scope: Scope) -> Region:
        return self.regions.setdefault(scope, Region())

    def quota(self, scope: Scope, name: str) -> int:
        return self.quotas.get(scope, {}).get(name, DEFAULT_QUOTAS[name])

    def existing_target_group(self, arn: str) -> None:
        """A target group outside the fabric that its manifests name by ARN: assumed to exist, as AWS has it."""
        parts = arn.split(":")
        region = self.region((parts[4], parts[3]))
        if _id_of(arn) not in region.records:
            region.add(Record("TargetGroup", _id_of(arn), arn, "", arn, fields={"external": True}))

    def forget(self, stack: str) -> None:
        """What `stack` created, gone, and the target groups its services used free again: its next plan declares
        it again, as a second `pulumi up` finds its own resources rather than new ones."""
        for region in self.regions.values():
            region.keep(lambda r: r.stack != stack)
            _serve(region)
        self.failed -= {i for i in self.failed if i.startswith(f"{stack}\0")}

    def replay(self, stack: str, scope: Scope, resources: list[dict[str, Any]],
               identify: Callable[[str, str, dict[str, Any]], tuple[str, str | None]]) -> list[str]:
        """Create each of a stack's resources in order (`identify(type, name, inputs)` gives the id and ARN its
        mocks gave it); the refusals, one line each."""
        with self.lock:
            self.forget(stack)
            found = []
            for r in resources:
                resource_id, arn = identify(r["type"], r["name"], r["inputs"])
                refusal = self.apply(stack, scope, r["type"], r["name"], resource_id, arn, r["inputs"])
                if refusal:
                    found.append(refusal)
            return found

    def apply(self, stack: str, scope: Scope, typ: str, name: str, resource_id: str, arn: str | None,
              inputs: dict[str, Any]) -> str | None:
        """Create one resource; a line saying why the API refused it, or None."""
        if typ not in HANDLERS:
            return None
        refused = {f.split("\0")[1] for f in self.failed}
        if any(_id_of(v) in refused for v in _identifiers(inputs)):
            self.failed.add(f"{stack}\0{resource_id}")  # never attempted: what it needs was refused
            return None
        try:
            self.create(stack, scope, typ, name, resource_id, arn, inputs)
        except LatticeError as err:
            self.failed.add(f"{stack}\0{resource_id}")
            return f"{stack}: {name} ({typ.rsplit(':', 1)[1]}): {err}"
        return None

    def create(self, stack: str, scope: Scope, typ: str, name: str, resource_id: str, arn: str | None,
               inputs: dict[str, Any]) -> Record:
        """Create one resource of a type the fake knows, or raise the LatticeError the API would answer."""
        record = HANDLERS[typ](self, scope, self.region(scope), Call(OPERATIONS[typ], inputs))
        record.id, record.arn, record.stack, record.resource = resource_id, arn, stack, name
        self.region(scope).add(record)
        return record

    def delete(self, scope: Scope, typ: str, identifier: str) -> None:
        """Delete one resource as the API does: refused while others use it (a service network with associations,
        a service associated with a network, a target group a listener or rule forwards to); a service takes its
        listeners, rules, auth policy and access log subscriptions with it, a listener its rules, a target group
        its targets."""
        region = self.region(scope)
        record = self.record(scope, identifier)
        operation = DELETES[typ]
        if record is None:
            raise LatticeError("ResourceNotFoundException", operation, f"{identifier} was not found in this "
                               "account and Region")
        users = _users(region, record)
        if users:
            raise LatticeError("ConflictException", operation, f"{record.kind} {record.id} ({record.name or record}) "
                               f"is in use: {', '.join(f'{u.kind} {u.id} ({u})' for u in users)}")
        gone = {record.id} | {r.id for r in _owned(region, record)}
        region.keep(lambda r: r.id not in gone)
        _serve(region)

    def record(self, scope: Scope, identifier: str) -> Record | None:
        """What `identifier` names (the key it was created with, or an ARN ending in its id), if it exists."""
        records = self.region(scope).records
        return records.get(identifier) or records.get(_id_of(identifier))

    def update(self, scope: Scope, typ: str, identifier: str, inputs: dict[str, Any]) -> Record:
        """Change a resource in place: checked as a create of the new inputs, in the state without the old one
        (it keeps its id, ARN and what refers to it)."""
        region = self.region(scope)
        old = self.record(scope, identifier)
        if old is None:
            raise LatticeError("ResourceNotFoundException", OPERATIONS[typ], f"{identifier} was not found in this "
                               "account and Region")
        region.keep(lambda r: r.id != old.id)
        record = self.create(old.stack, scope, typ, old.resource, old.id, old.arn, inputs)
        _serve(region)
        return record

    def to_json(self) -> dict[str, Any]:
        """The whole state, for another process to load: every account and Region's records and the quotas."""
        return {"quotas": [{"scope": list(s), "quotas": q} for s, q in self.quotas.items()],
                "regions": [{"scope": list(s), "records": [asdict(r) for r in region.records.values()]}
                            for s, region in self.regions.items()]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LatticeFake:
        fake = cls({tuple(q["scope"]): q["quotas"] for q in data.get("quotas", [])})  # type: ignore[misc]
        for entry in data.get("regions", []):
            region = fake.region(tuple(entry["scope"]))  # type: ignore[arg-type]
            for record in entry["records"]:
                region.add(Record(**record))
        return fake

    @classmethod
    @contextmanager
    def stored(cls, path: Path) -> Iterator[LatticeFake]:
        """The state kept in the JSON file at `path` (empty if there is none), locked against other processes
        while in use, and written back unless the block raised: a refused change leaves the file as it was."""
        with open(path.with_name(path.name + ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            fake = cls.from_json(json.loads(path.read_text())) if path.exists() else cls()
            yield fake
            temporary = path.with_name(path.name + ".new")
            temporary.write_text(json.dumps(fake.to_json(), indent=1))
            temporary.replace(path)


def _users(region: Region, record: Record) -> list[Record]:
    """What keeps `record` from being deleted."""
    if record.kind == "ServiceNetwork":
        return region.of("VpcAssociation", network=record.id) + region.of("ServiceAssociation", network=record.id)
    if record.kind == "Service":
        return region.of("ServiceAssociation", service=record.id)
    if record.kind == "TargetGroup":
        return [r for r in region.of("Listener") + region.of("Rule") if record.id in r.fields.get("targets", [])]
    return []


def _owned(region: Region, record: Record) -> list[Record]:
    """What goes with `record` when it is deleted."""
    if record.kind == "Service":
        listeners = region.of("Listener", service=record.id)
        return (listeners + [r for listener in listeners for r in _owned(region, listener)]
                + region.of("AuthPolicy", resource=record.id) + region.of("AccessLogSubscription", resource=record.id))
    if record.kind == "Listener":
        return region.of("Rule", listener=record.id)
    if record.kind == "TargetGroup":
        return region.of("Target", group=record.id)
    if record.kind == "ServiceNetwork":
        return region.of("AuthPolicy", resource=record.id) + region.of("AccessLogSubscription", resource=record.id)
    return []


def _serve(region: Region) -> None:
    """Which service each target group serves, from the listeners and rules that forward to it now."""
    for group in region.of("TargetGroup"):
        group.fields.pop("service", None), group.fields.pop("served", None)
    for user in region.of("Listener") + region.of("Rule"):
        service = region.records[user.fields["service"] if user.kind == "Listener"
                                 else region.records[user.fields["listener"]].fields["service"]]
        for target in user.fields.get("targets", []):
            _serves(region.records[target], service)


def _serves(target: Record, service: Record) -> None:
    target.fields.update(service=service.id, served=f"service {service.name!r} ({service})")


def _identifiers(value: Any) -> Iterable[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            if k.endswith("Identifier") or k == "identifier":
                if isinstance(v, str):
                    yield v
            else:
                yield from _identifiers(v)
    elif isinstance(value, list):
        for v in value:
            yield from _identifiers(v)


# --- the operations -----------------------------------------------------------------------------------------


def made(kind: str, name: str | None = None, **fields: Any) -> Record:
    """What a create makes; `apply` gives it its id, ARN, stack and resource."""
    return Record(kind, "", None, "", "", name, fields)


def _name(call: Call, region: Region, kind: str) -> str:
    """A name valid for `kind`, and free in the account and Region."""
    pattern, low, high = NAMES[kind]
    value = call.string("name", low, high, pattern)
    taken = region.of(kind, name=value)
    if taken:
        raise call.refuse("ConflictException", f"a {kind} named {value!r} already exists in this account and Region: "
                          f"{taken[0]}")
    return value  # type: ignore[return-value]


def _resolve(call: Call, region: Region, kind: str, path: str, value: Any = None) -> Record:
    identifier = call.get(path) if value is None else value
    pattern, low = IDENTIFIERS[kind]
    if not isinstance(identifier, str) or len(identifier) < low or not re.fullmatch(pattern, identifier):
        raise _invalid(call.operation, path, identifier, f"satisfy regular expression pattern: {pattern}")
    found = region.find(kind, identifier)
    if found is None:
        raise call.refuse("ResourceNotFoundException", f"{kind} {identifier} was not found in this account and Region")
    return found


def create_service_network(fake: LatticeFake, scope: Scope, region: Region, call: Call) -> Record:
    name = _name(call, region, "ServiceNetwork")
    call.enum("authType", AUTH_TYPES, required=False)
    call.tags()
    return made("ServiceNetwork", name)


def create_service(fake: LatticeFake, scope: Scope, region: Region, call: Call) -> Record:
    name = _name(call, region, "Service")
    call.enum("authType", AUTH_TYPES, required=False)
    # Two independent optional fields (CreateService): a certificate without a custom domain name is accepted, and
    # never served (VPC Lattice picks it by SNI for the custom domain; its generated domain has its own certificate).
    domain = call.string("customDomainName", 3, 255, required=False)
    call.string("certificateArn", 0, 2048, CERTIFICATE_ARN, required=False)
    call.tags()
    return made("Service", name, domain=domain)


def create_target_group(fake: LatticeFake, scope: Scope, region: Region, call: Call) -> Record:
    name = _name(call, region, "TargetGroup")
    kind = call.enum("type", TARGET_GROUP_TYPES)
    call.tags()
    if kind == "LAMBDA":
        return made("TargetGroup", name, type=kind)
    if call.get("config") is None:
        raise _invalid(call.operation, "config", None, "not be null for a target group of type " + str(kind))
    call.integer("config.port", 1, 65535, required=kind != "ALB")
    protocol = call.enum("config.protocol", TARGET_GROUP_PROTOCOLS)
    version = call.enum("config.protocolVersion", TARGET_GROUP_VERSIONS, required=False)
    if protocol == "TCP" and version:
        raise call.refuse("ValidationException", "a TCP target group takes no protocol version")
    call.string("config.vpcIdentifier", 5, 50, VPC_ID)
    call.enum("config.ipAddressType", IP_ADDRESS_TYPES, required=False)
    check = call.get("config.healthCheck")
    if check is not None:
        if kind == "ALB":
            raise call.refuse("ValidationException", "health checks are not supported for target groups of type ALB")
        for key, (low, high) in HEALTH_CHECK_RANGES.items():
            call.integer(f"config.healthCheck.{key}", low, high, required=False)
        call.enum("config.healthCheck.protocol", TARGET_GROUP_PROTOCOLS, required=False)
        call.enum("config.healthCheck.protocolVersion", HEALTH_CHECK_VERSIONS, required=False)
        call.string("config.healthCheck.path", 0, 2048, HEALTH_CHECK_PATH, required=False)
        call.string("config.healthCheck.matcher.value", 0, 2000, HTTP_CODE, required=False)
    return made("TargetGroup", name, type=kind, protocol=protocol)


def _forward(fake: LatticeFake, region: Region, call: Call, path: str, groups: Any, service: Record,
             listener_protocol: str) -> list[Record]:
    """A forward action's target groups: 1-10, weights 0-999, each of this account and Region, of a protocol the
    listener can forward to, and used by no other service."""
    call.count(f"{path}.targetGroups", groups, WEIGHTED_TARGET_GROUPS)
    found = []
    for i, group in enumerate(groups):
        target = _resolve(call, region, "TargetGroup", f"{path}.targetGroups[{i}].targetGroupIdentifier",
                          group.get("targetGroupIdentifier"))
        call.integer(f"{path}.targetGroups[{i}].weight", *WEIGHT, required=False, value=group.get("weight"))
        protocol = target.fields.get("protocol")
        if protocol and (protocol == "TCP") != (listener_protocol == "TLS_PASSTHROUGH"):
            raise call.refuse("ValidationException", f"target group {target.name!r} ({protocol}) cannot serve a "
                              f"{listener_protocol} listener")
        user = target.fields.get("service")
        if user is not None and user != service.id:
            raise call.refuse("ConflictException", f"TargetGroup {target.id} ({target.name or target.arn}) has been "
                              f"associated with other services: it serves {target.fields['served']} already")
        found.append(target)
    return found


QUOTA_WORDS = {"listenersPerService": ("listeners", "service"), "rulesPerListener": ("rules", "listener")}


def _admit(fake: LatticeFake, scope: Scope, call: Call, quota: str, owner: str, existing: int,
           targets: list[Record], service: Record) -> None:
    """The last checks of a listener or rule (its quota, its tags); then its target groups serve `service`."""
    limit = fake.quota(scope, quota)
    items, per = QUOTA_WORDS[quota]
    if existing >= limit:
        raise call.refuse("ServiceQuotaExceededException", f"{owner} has {existing} {items}; the quota is {limit} "
                          f"per {per}")
    call.tags()
    for target in targets:
        _serves(target, service)


def _action(fake: LatticeFake, region: Region, call: Call, path: str, service: Record,
            listener_protocol: str) -> list[Record]:
    action = call.get(path) or {}
    forward = action.get("forward") or (action.get("forwards") or [None])[0]
    if (forward is None) == (action.get("fixedResponse") is None):
        raise _invalid(call.operation, path, action, "be exactly one of forward or fixedResponse")
    if forward is None:
        call.integer(f"{path}.fixedResponse.statusCode", *STATUS_CODE)
        return []
    return _forward(fake, region, call, f"{path}.forward", forward.get("targetGroups"), service, listener_protocol)


def create_listener(fake: LatticeFake, scope: Scope, region: Region, call: Call) -> Record:
    service = _resolve(call, region, "Service", "serviceIdentifier")
    pattern, low, high = NAMES["Listener"]
    name = call.string("name", low, high, pattern)
    protocol = call.enum("protocol", LISTENER_PROTOCOLS)
    port = call.integer("port", 1, 65535, required=False) or (443 if protocol != "HTTP" else 80)
    listeners = region.of("Listener", service=service.id)
    for other in listeners:
        if other.name == name or other.fields["port"] == port:
            raise call.refuse("ConflictException", f"service {service.name!r} has a listener named {other.name!r} on "
                              f"port {other.fields['port']} already: {other}")
    if protocol == "TLS_PASSTHROUGH" and not (call.get("defaultAction") or {}).get("forwards"):
        raise call.refuse("ValidationException", "a TLS_PASSTHROUGH listener's default action must be a forward")
    if protocol == "TLS_PASSTHROUGH" and not service.fields.get("domain"):
        # The one place AWS asks for a custom domain name: it is the SNI a TLS listener routes by.
        raise call.refuse("ValidationException", f"a TLS_PASSTHROUGH listener needs a service with a custom domain "
                          f"name, and {service.name!r} has none")
    targets = _action(fake, region, call, "defaultAction", service, protocol)  # type: ignore[arg-type]
    _admit(fake, scope, call, "listenersPerService", f"service {service.name!r}", len(listeners), targets, service)
    return made("Listener", name, service=service.id, port=port, protocol=protocol, targets=[t.id for t in targets])


def create_rule(fake: LatticeFake, scope: Scope, region: Region, call: Call) -> Record:
    service = _resolve(call, region, "Service", "serviceIdentifier")
    listener = _resolve(call, region, "Listener", "listenerIdentifier")
    if listener.fields["service"] != service.id:
        raise call.refuse("ResourceNotFoundException", f"listener {listener.id} is not a listener of {service.id}")
    if listener.fields["protocol"] == "TLS_PASSTHROUGH":
        raise call.refuse("ValidationException", "a TLS_PASSTHROUGH listener takes no rules: only its default action")
    pattern, low, high = NAMES["Rule"]
    name = call.string("name", low, high, pattern)
    priority = call.integer("priority", *PRIORITY)
    rules = region.of("Rule", listener=listener.id)
    for other in rules:
        if other.name == name or other.fields["priority"] == priority:
            raise call.refuse("ConflictException", f"listener {listener.name!r} has rule {other.name!r} of priority "
                              f"{other.fields['priority']} already: {other}")
    match = call.get("match.httpMatch")
    if not isinstance(match, dict):
        raise _invalid(call.operation, "match.httpMatch", match, "not be null")
    call.string("match.httpMatch.method", 0, 16, required=False)
    path_match = match.get("pathMatch")
    if path_match is not None:
        value = (path_match.get("match") or {})
        if len(value) != 1 or next(iter(value)) not in ("exact", "prefix"):
            raise _invalid(call.operation, "match.httpMatch.pathMatch.match", value, "be exactly one of exact, prefix")
        kind = next(iter(value))
        call.string(f"match.httpMatch.pathMatch.match.{kind}", *MATCH_VALUE, PATH)
    headers = call.count("match.httpMatch.headerMatches", match.get("headerMatches"), HEADER_MATCHES, required=False)
    for i, header in enumerate(headers):
        _header(call, i, header)
    targets = _action(fake, region, call, "action", service, listener.fields["protocol"])
    _admit(fake, scope, call, "rulesPerListener", f"listener {listener.name!r}", len(rules), targets, service)
    return made("Rule", name, listener=listener.id, priority=priority, targets=[t.id for t in targets])


def _header(call: Call, i: int, header: dict[str, Any]) -> None:
    name = header.get("name")
    if not isinstance(name, str) or not HEADER_NAME[0] <= len(name) <= HEADER_NAME[1]:
        raise _invalid(call.operation, f"match.httpMatch.headerMatches[{i}].name", name, "have length between 1 and 100")
    match = header.get("match") or {}
    if len(match) != 1 or next(iter(match)) not in ("exact", "prefix", "contains"):
        raise _invalid(call.operation, f"match.httpMatch.headerMatches[{i}].match", match,
                       "be exactly one of exact, prefix, contains")
    value = next(iter(match.values()))
    if not isinstance(value, str) or not MATCH_VALUE[0] <= len(value) <= MATCH_VALUE[1]:
        raise _invalid(call.operation, f"match.httpMatch.headerMatches[{i}].match", value,
                       "have length between 1 and 200")


def create_vpc_association(fake: LatticeFake, scope: Scope, region: Region, call: Call) -> Record:
    network = _resolve(call, region, "ServiceNetwork", "serviceNetworkIdentifier")
    vpc = call.string("vpcIdentifier", 5, 50, VPC_ID)
    groups = call.count("securityGroupIds", call.get("securityGroupIds"), (0, SECURITY_GROUPS), required=False)
    for i, group in enumerate(groups):
        if not isinstance(group, str) or not re.fullmatch(SECURITY_GROUP_ID, group):
            raise _invalid(call.operation, f"securityGroupIds[{i}]", group,
                           f"satisfy regular expression pattern: {SECURITY_GROUP_ID}")
    for other in region.of("VpcAssociation", vpc=vpc):
        joined = region.records[other.fields["network"]]
        raise call.refuse("ConflictException", f"{vpc} is associated with service network {joined.name!r} already "
                          f"({other}); a VPC can be associated with one service network only")
    call.tags()
    return made("VpcAssociation", vpc=vpc, network=network.id)


def create_service_association(fake: LatticeFake, scope: Scope, region: Region, call: Call) -> Record:
    service = _resolve(call, region, "Service", "serviceIdentifier")
    network = _resolve(call, region, "ServiceNetwork", "serviceNetworkIdentifier")
    for other in region.of("ServiceAssociation", service=service.id, network=network.id):
        raise call.refuse("ConflictException", f"service {service.name!r} is associated with {network.name!r} "
                          f"already: {other}")
    call.tags()
    return made("ServiceAssociation", service=service.id, network=network.id)


def _any(call: Call, region: Region, path: str) -> Record:
    identifier = call.get(path)
    kind = "Service" if "service/" in str(identifier) or str(identifier).startswith("svc-") else "ServiceNetwork"
    return _resolve(call, region, kind, path)


def put_auth_policy(fake: LatticeFake, scope: Scope, region: Region, call: Call) -> Record:
    target = _any(call, region, "resourceIdentifier")
    policy = call.string("policy", 0, 36864)
    if len(policy.encode()) > AUTH_POLICY_BYTES:  # type: ignore[union-attr]
        raise call.refuse("ValidationException", f"the auth policy has {len(policy.encode())} bytes; the quota is "
                          f"{AUTH_POLICY_BYTES}")
    return made("AuthPolicy", resource=target.id)


def create_access_log_subscription(fake: LatticeFake, scope: Scope, region: Region, call: Call) -> Record:
    target = _any(call, region, "resourceIdentifier")
    destination = call.string("destinationArn", 20, 2048, DESTINATION_ARN)
    kind = destination.split(":")[2]  # type: ignore[union-attr]
    for other in region.of("AccessLogSubscription", resource=target.id, destination=kind):
        raise call.refuse("ConflictException", f"{target.name!r} has an access log subscription to {kind} already: "
                          f"{other}")
    call.tags()
    return made("AccessLogSubscription", resource=target.id, destination=kind)


def register_target(fake: LatticeFake, scope: Scope, region: Region, call: Call) -> Record:
    group = _resolve(call, region, "TargetGroup", "targetGroupIdentifier")
    target = call.string("target.id", 1, 200)
    call.integer("target.port", 1, 65535, required=False)
    kind = group.fields.get("type")
    if kind == "IP":
        try:
            ipaddress.ip_address(target)
        except ValueError:
            raise call.refuse("ValidationException", f"{target!r} is no IP address, and {group.name!r} is of type IP")
    if kind == "ALB" and ":elasticloadbalancing:" not in str(target):
        raise call.refuse("ValidationException", f"{target!r} is no load balancer, and {group.name!r} is of type ALB")
    return made("Target", group=group.id)


def attach_traffic_source(fake: LatticeFake, scope: Scope, region: Region, call: Call) -> Record:
    """An Auto Scaling group registering its instances (EC2 Auto Scaling's API): the target group must exist and
    take instances."""
    group = _resolve(call, region, "TargetGroup", "trafficSource.identifier")
    if group.fields.get("type") not in (None, "INSTANCE"):
        raise call.refuse("ValidationException", f"{group.name!r} is of type {group.fields['type']}: an Auto Scaling "
                          "group registers instances")
    return made("Target", group=group.id)


LATTICE = "aws:vpclattice/"
HANDLERS: dict[str, Callable[..., Record]] = {
    f"{LATTICE}serviceNetwork:ServiceNetwork": create_service_network,
    f"{LATTICE}service:Service": create_service,
    f"{LATTICE}targetGroup:TargetGroup": create_target_group,
    f"{LATTICE}listener:Listener": create_listener,
    f"{LATTICE}listenerRule:ListenerRule": create_rule,
    f"{LATTICE}serviceNetworkVpcAssociation:ServiceNetworkVpcAssociation": create_vpc_association,
    f"{LATTICE}serviceNetworkServiceAssociation:ServiceNetworkServiceAssociation": create_service_association,
    f"{LATTICE}authPolicy:AuthPolicy": put_auth_policy,
    f"{LATTICE}accessLogSubscription:AccessLogSubscription": create_access_log_subscription,
    f"{LATTICE}targetGroupAttachment:TargetGroupAttachment": register_target,
    "aws:autoscaling/trafficSourceAttachment:TrafficSourceAttachment": attach_traffic_source,
}
OPERATIONS = {
    f"{LATTICE}serviceNetwork:ServiceNetwork": "CreateServiceNetwork",
    f"{LATTICE}service:Service": "CreateService",
    f"{LATTICE}targetGroup:TargetGroup": "CreateTargetGroup",
    f"{LATTICE}listener:Listener": "CreateListener",
    f"{LATTICE}listenerRule:ListenerRule": "CreateRule",
    f"{LATTICE}serviceNetworkVpcAssociation:ServiceNetworkVpcAssociation": "CreateServiceNetworkVpcAssociation",
    f"{LATTICE}serviceNetworkServiceAssociation:ServiceNetworkServiceAssociation":
        "CreateServiceNetworkServiceAssociation",
    f"{LATTICE}authPolicy:AuthPolicy": "PutAuthPolicy",
    f"{LATTICE}accessLogSubscription:AccessLogSubscription": "CreateAccessLogSubscription",
    f"{LATTICE}targetGroupAttachment:TargetGroupAttachment": "RegisterTargets",
    "aws:autoscaling/trafficSourceAttachment:TrafficSourceAttachment": "AttachTrafficSources",
}
DELETES = {
    f"{LATTICE}serviceNetwork:ServiceNetwork": "DeleteServiceNetwork",
    f"{LATTICE}service:Service": "DeleteService",
    f"{LATTICE}targetGroup:TargetGroup": "DeleteTargetGroup",
    f"{LATTICE}listener:Listener": "DeleteListener",
    f"{LATTICE}listenerRule:ListenerRule": "DeleteRule",
    f"{LATTICE}serviceNetworkVpcAssociation:ServiceNetworkVpcAssociation": "DeleteServiceNetworkVpcAssociation",
    f"{LATTICE}serviceNetworkServiceAssociation:ServiceNetworkServiceAssociation":
        "DeleteServiceNetworkServiceAssociation",
    f"{LATTICE}authPolicy:AuthPolicy": "DeleteAuthPolicy",
    f"{LATTICE}accessLogSubscription:AccessLogSubscription": "DeleteAccessLogSubscription",
    f"{LATTICE}targetGroupAttachment:TargetGroupAttachment": "DeregisterTargets",
    "aws:autoscaling/trafficSourceAttachment:TrafficSourceAttachment": "DetachTrafficSources",
}
