"""VPC Lattice through the AWS Gateway API Controller's kinds, and the cluster settings in fabric.yaml.

Kinds of `application-networking.k8s.aws/v1alpha1` (clusterfabric/crds/aws-gateway-api-controller):
ServiceExport, ServiceImport, TargetGroupPolicy, IAMAuthPolicy, VpcAssociationPolicy.
The annotations are the controller's, under the prefix `application-networking.k8s.aws/`.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from .kubernetes import DNSLabel, DNSSubdomain, ObjectMeta, Port, Strict, check_service_name
from .limits import AUTH_POLICY_BYTES

API_VERSION = "application-networking.k8s.aws/v1alpha1"
PREFIX = "application-networking.k8s.aws/"
FEDERATION = PREFIX + "federation"
FEDERATION_VALUE = "amazon-vpc-lattice"
SERVICE_NAME = PREFIX + "service-name"
PORT = PREFIX + "port"
TAGS = PREFIX + "tags"
EXPORT_NAME = PREFIX + "export-name"
CLUSTER_NAME = PREFIX + "aws-eks-cluster-name"
VPC = PREFIX + "aws-vpc"
TARGET_GROUP_ARN = PREFIX + "target-group-arn"
SERVICE_NAME_OVERRIDE = PREFIX + "service-name-override"

AccountId = Annotated[str, Field(pattern=r"^\d{12}$")]
Region = Annotated[str, Field(pattern=r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")]
# EC2 ids as the Lattice API takes them (botocore's VpcId and SecurityGroupId): 8 or 17 characters after the prefix.
VpcId = Annotated[str, Field(pattern=r"^vpc-([0-9a-f]{8}|[0-9a-f]{17})$")]
SecurityGroupId = Annotated[str, Field(pattern=r"^sg-([0-9a-f]{8}|[0-9a-f]{17})$")]
CERTIFICATE_ARN = PREFIX + "certificate-arn"
CERTIFICATE_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-z-]+$")
# The tags annotation as the controller reads it (k8s.ParseTagsFromAnnotation, GetNonAWSManagedTags): key=value
# pairs, keys up to 128 characters and values up to 256 of its pattern, the first of each key, at most 50, none
# starting with `aws:` (AWS's own) or its own prefix; it drops every other pair.
TAG_KEY_LENGTH, TAG_VALUE_LENGTH, ANNOTATION_TAGS = 128, 256, 50
TAG_TEXT = re.compile(r"[\w\s.:/=+\-@]*")
TARGET_GROUP_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:vpc-lattice:[a-z0-9-]+:\d{12}:targetgroup/tg-[0-9a-z]{17}$")
ALB_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer/app/[\w-]{1,32}/[0-9a-f]{16}$")
RouteType = Literal["HTTP", "GRPC", "TLS"]


# --- fabric.yaml: `lattice:` settings of a cluster -----------------------------


class LatticeTargets(Strict):
    """Where an exported Service's traffic lands; no controller registers pods at deploy time."""

    mode: Literal["instance", "ip", "alb"] = "instance"
    autoScalingGroup: Annotated[str, Field(min_length=1, max_length=1600)] | None = None
    """instance: the node group's Auto Scaling group, attached to each target group as a traffic source."""
    ips: list[str] = Field(default_factory=list)
    """ip: the target IP addresses."""
    albArn: str | None = None
    """alb: an internal Application Load Balancer in the cluster's VPC."""

    @field_validator("ips")
    @classmethod
    def _addresses(cls, ips: list[str]) -> list[str]:
        for ip in ips:
            ipaddress.ip_address(ip)
        return ips

    @field_validator("albArn")
    @classmethod
    def _alb(cls, arn: str | None) -> str | None:
        if arn is not None and not ALB_ARN_PATTERN.fullmatch(arn):
            raise ValueError(f"{arn!r} is not an Application Load Balancer ARN")
        return arn

    @model_validator(mode="after")
    def _mode_needs(self) -> "LatticeTargets":
        needed = {"instance": ("autoScalingGroup", self.autoScalingGroup), "ip": ("ips", self.ips),
                  "alb": ("albArn", self.albArn)}[self.mode]
        if not needed[1]:
            raise ValueError(f"targets mode {self.mode} needs targets.{needed[0]}")
        return self


class LatticeSettings(Strict):
    """`clusters[].lattice` in fabric.yaml."""

    accountId: AccountId
    region: Region
    vpcId: VpcId
    targets: LatticeTargets
    securityGroupIds: list[SecurityGroupId] = Field(default_factory=list, max_length=5)
    """Security groups of the VPC's association with each service network (a VpcAssociationPolicy overrides)."""
    serviceNetworks: list[DNSLabel] = Field(default_factory=list)
    """Service networks (Gateway names) this cluster's stack creates; others find them through its outputs."""
    accessLogs: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:(s3|logs|firehose):[a-z0-9-]*:\d{0,12}:.+$")] | None = None
    """Where the access logs of the service networks this stack creates go: an S3 bucket, CloudWatch
    Logs group or Firehose delivery stream ARN (a Lattice access log subscription)."""


class LatticeQuota(Strict):
    """Service Quotas AWS raised for one account and Region (`lattice.quotas` in fabric.yaml). Lattice's defaults
    are 2 listeners per service and 10 rules per listener (the quotas page; older copies said 5): a plan is checked
    against these, or the ones declared (as Service Quotas shows them for the account)."""

    accountId: AccountId
    region: Region
    listenersPerService: Annotated[int, Field(ge=2, strict=True)] = 2
    rulesPerListener: Annotated[int, Field(ge=5, le=100, strict=True)] = 10
    """At most 100: the controller gives rules priorities 1-100."""


class LatticeFabricSettings(Strict):
    """`lattice` at the top of fabric.yaml: what holds for the whole fabric's Lattice clusters."""

    quotas: list[LatticeQuota] = Field(default_factory=list)

    @field_validator("quotas")
    @classmethod
    def _once_per_region(cls, quotas: list[LatticeQuota]) -> list[LatticeQuota]:
        seen = [(q.accountId, q.region) for q in quotas]
        if len(set(seen)) != len(seen):
            raise ValueError("each account and Region is listed once")
        return quotas


# --- the controller's CRs ------------------------------------------------------


class ExportedPort(Strict):
    port: Port
    routeType: RouteType


class ServiceExportSpec(Strict):
    exportedPorts: list[ExportedPort] = Field(default_factory=list)


def _ports_annotation(value: str) -> tuple[list[int], list[str]]:
    """The ports of the port annotation, and the entries that are no port: the controller skips those."""
    ports, skipped = [], []
    for part in filter(None, (p.strip() for p in value.split(","))):
        if part.isdigit() and 1 <= int(part) <= 65535:
            ports.append(int(part))
        else:
            skipped.append(part)
    return ports, skipped


def _tags_annotation(value: str) -> tuple[dict[str, str], list[str]]:
    """The tags the controller takes from the tags annotation, and the pairs it drops."""
    tags: dict[str, str] = {}
    dropped = []
    for pair in filter(None, (p.strip() for p in value.split(","))):
        key, sep, val = (part.strip() for part in pair.partition("="))
        if (sep and key and val and len(key) <= TAG_KEY_LENGTH and len(val) <= TAG_VALUE_LENGTH and key not in tags
                and TAG_TEXT.fullmatch(key) and TAG_TEXT.fullmatch(val) and len(tags) < ANNOTATION_TAGS):
            tags[key] = val
        else:
            dropped.append(pair)
    reserved = [k for k in tags if k.startswith(PREFIX) or k.lower().startswith("aws:")]
    return {k: v for k, v in tags.items() if k not in reserved}, dropped + [f"{k}={tags[k]}" for k in reserved]


def _named_service(annotations: dict[str, str], key: str) -> None:
    """An annotation that names a Service must hold a Service name: the controller reads the Service of that name."""
    if key in annotations:
        try:
            check_service_name(annotations[key])
        except ValueError as err:
            raise ValueError(f"{key}: {err}") from None


class ExportMeta(ObjectMeta):
    @field_validator("name")
    @classmethod
    def _target_group_name(cls, name: str) -> str:
        """The controller names an export's target groups after it (`k8s-<namespace>-<name>-…`, truncated), and
        CreateTargetGroup takes only a-z, 0-9 and '-' in a name."""
        if "." in name:
            raise ValueError(f"{name!r} holds a '.': the controller names the export's target groups after it, and "
                             "VPC Lattice names take only a-z, 0-9 and '-'")
        return name


class ServiceExport(Strict):
    apiVersion: Literal["application-networking.k8s.aws/v1alpha1"]
    kind: Literal["ServiceExport"]
    metadata: ExportMeta
    spec: ServiceExportSpec = Field(default_factory=ServiceExportSpec)

    @model_validator(mode="after")
    def _annotations(self) -> "ServiceExport":
        annotations = self.metadata.annotations
        try:
            _named_service(annotations, SERVICE_NAME)
        except ValueError as err:
            raise ValueError(f"metadata.annotations: {err}") from None
        return self

    @property
    def federated(self) -> bool:
        """Whether it is exported at all: the controller ignores an export without the federation annotation."""
        return self.metadata.annotations.get(FEDERATION) == FEDERATION_VALUE

    @property
    def service(self) -> str:
        """The backing Service: the service-name annotation, else the export's name."""
        return self.metadata.annotations.get(SERVICE_NAME, self.metadata.name)

    @property
    def user_tags(self) -> dict[str, str]:
        return _tags_annotation(self.metadata.annotations.get(TAGS, ""))[0]

    def dropped_annotations(self) -> list[str]:
        """What the controller drops of its port and tags annotations, as `annotation: entries` (none: [])."""
        annotations = self.metadata.annotations
        dropped = [(PORT, _ports_annotation(annotations.get(PORT, ""))[1]),
                   (TAGS, _tags_annotation(annotations.get(TAGS, ""))[1])]
        return [f"{key}: {', '.join(repr(e) for e in entries)}" for key, entries in dropped if entries]

    def exported_ports(self, service_ports: list[int]) -> list[ExportedPort]:
        """spec.exportedPorts, else the legacy port annotation's ports, else every Service port, as HTTP."""
        if self.spec.exportedPorts:
            return self.spec.exportedPorts
        annotated = _ports_annotation(self.metadata.annotations.get(PORT, ""))[0]
        return [ExportedPort(port=p, routeType="HTTP") for p in annotated or service_ports]


class ServiceImportPort(Strict):
    name: str | None = None
    port: Port
    protocol: Literal["TCP", "UDP", "SCTP"] | None = None
    appProtocol: str | None = None


class ServiceImportSpec(Strict):
    """The CRD requires type and ports, but the controller's own examples wrote `spec: {}`, and the program never
    writes a ServiceImport to a cluster: type defaults to ClusterSetIP, the ports are the resolved export's."""

    type: Literal["ClusterSetIP", "Headless"] = "ClusterSetIP"
    ports: list[ServiceImportPort] = Field(default_factory=list)
    ips: list[str] = Field(default_factory=list, max_length=1)
    sessionAffinity: str | None = None
    sessionAffinityConfig: dict | None = None


class ServiceImport(Strict):
    apiVersion: Literal["application-networking.k8s.aws/v1alpha1"]
    kind: Literal["ServiceImport"]
    metadata: ObjectMeta
    spec: ServiceImportSpec = Field(default_factory=ServiceImportSpec)

    @model_validator(mode="after")
    def _modes(self) -> "ServiceImport":
        a = self.metadata.annotations
        if TARGET_GROUP_ARN in a:
            conflicting = [k for k in (EXPORT_NAME, CLUSTER_NAME, VPC) if k in a]
            if conflicting:
                raise ValueError(f"metadata.annotations: {TARGET_GROUP_ARN} names the target group directly and "
                                 f"conflicts with {', '.join(conflicting)}: keep one mode")
            if not TARGET_GROUP_ARN_PATTERN.fullmatch(a[TARGET_GROUP_ARN]):
                raise ValueError(f"metadata.annotations: {a[TARGET_GROUP_ARN]!r} is not a VPC Lattice target group "
                                 "ARN (arn:aws:vpc-lattice:REGION:ACCOUNT:targetgroup/tg-...)")
        return self

    @property
    def export_name(self) -> str:
        return self.metadata.annotations.get(EXPORT_NAME, self.metadata.name)

    @property
    def cluster_filter(self) -> str | None:
        return self.metadata.annotations.get(CLUSTER_NAME)

    @property
    def vpc_filter(self) -> str | None:
        return self.metadata.annotations.get(VPC)

    @property
    def target_group_arn(self) -> str | None:
        return self.metadata.annotations.get(TARGET_GROUP_ARN)


class TargetRef(Strict):
    group: Annotated[str, Field(max_length=253)]
    kind: Annotated[str, Field(min_length=1, max_length=63)]
    name: DNSSubdomain
    namespace: DNSLabel | None = None


def _target_kinds(*kinds: str, what: str):
    """A field validator: the policy's targetRef names one of `kinds`."""

    def check(cls, ref: TargetRef) -> TargetRef:
        if ref.kind not in kinds:
            raise ValueError(f"{what} targets {' or '.join(kinds)}, not {ref.kind}")
        return ref

    return field_validator("targetRef")(classmethod(check))


HEALTH_CHECK_DEFAULTS = {"intervalSeconds": 30, "timeoutSeconds": 5}
"""The controller's (and Lattice's) interval and timeout when a policy leaves them out."""


class HealthCheck(Strict):
    enabled: Annotated[bool, Field(strict=True)] | None = None
    intervalSeconds: Annotated[int, Field(ge=5, le=300, strict=True)] | None = None
    timeoutSeconds: Annotated[int, Field(ge=1, le=120, strict=True)] | None = None
    healthyThresholdCount: Annotated[int, Field(ge=2, le=10, strict=True)] | None = None
    unhealthyThresholdCount: Annotated[int, Field(ge=2, le=10, strict=True)] | None = None
    statusMatch: Annotated[str, Field(pattern=r"^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$")] | None = None
    path: Annotated[str, Field(pattern=r"^/", max_length=2048)] | None = None
    port: Port | None = None
    protocol: Literal["HTTP", "HTTPS"] | None = None
    protocolVersion: Literal["HTTP1", "HTTP2"] | None = None

    def timeout_above_interval(self) -> str | None:
        """Why its timeout outlasts its interval, if it does: neither AWS nor the controller refuses that, and a
        check then waits for an answer past the start of the next one."""
        interval = self.intervalSeconds or HEALTH_CHECK_DEFAULTS["intervalSeconds"]
        timeout = self.timeoutSeconds or HEALTH_CHECK_DEFAULTS["timeoutSeconds"]
        if timeout <= interval:
            return None
        return (f"a health check waits {timeout}s for an answer but runs every {interval}s (intervalSeconds"
                f"{'' if self.intervalSeconds else ', the default'}): Elastic Load Balancing requires the timeout "
                "to be below the interval; VPC Lattice and the controller take it as written")


class TargetGroupPolicySpec(Strict):
    targetRef: TargetRef
    protocol: Literal["HTTP", "HTTPS", "TCP"] | None = None
    protocolVersion: Literal["HTTP1", "HTTP2", "GRPC"] | None = None
    healthCheck: HealthCheck | None = None

    _targets = _target_kinds("Service", "ServiceExport", what="a TargetGroupPolicy")

    @model_validator(mode="after")
    def _tcp_has_no_version(self) -> "TargetGroupPolicySpec":
        if self.protocol == "TCP" and self.protocolVersion is not None:
            raise ValueError("protocolVersion: a TCP target group has no protocol version (the controller refuses "
                             "this policy too): remove it")
        return self


class TargetGroupPolicy(Strict):
    apiVersion: Literal["application-networking.k8s.aws/v1alpha1"]
    kind: Literal["TargetGroupPolicy"]
    metadata: ObjectMeta
    spec: TargetGroupPolicySpec


class IAMAuthPolicySpec(Strict):
    targetRef: TargetRef
    policy: Annotated[str, Field(min_length=2, max_length=10_000)]

    @field_validator("policy")
    @classmethod
    def _json(cls, policy: str) -> str:
        try:
            document = json.loads(policy)
        except json.JSONDecodeError as err:
            raise ValueError(f"policy is not a JSON document: {err.msg} at line {err.lineno}") from None
        if not isinstance(document, dict) or "Statement" not in document:
            raise ValueError("policy must be an IAM policy document with a Statement")
        size = len(policy.encode())
        if size > AUTH_POLICY_BYTES:  # the CRD counts characters, the quota bytes: only the plan saw this
            raise ValueError(f"policy has {size} bytes (UTF-8); VPC Lattice's auth policy size quota is "
                             f"{AUTH_POLICY_BYTES} bytes and cannot be raised")
        return policy

    _targets = _target_kinds("Gateway", "HTTPRoute", "GRPCRoute", "TLSRoute", what="an IAMAuthPolicy")


class IAMAuthPolicy(Strict):
    apiVersion: Literal["application-networking.k8s.aws/v1alpha1"]
    kind: Literal["IAMAuthPolicy"]
    metadata: ObjectMeta
    spec: IAMAuthPolicySpec


class VpcAssociationPolicySpec(Strict):
    targetRef: TargetRef
    securityGroupIds: list[SecurityGroupId] | None = Field(default=None, min_length=1, max_length=5)
    associateWithVpc: Annotated[bool, Field(strict=True)] | None = None

    _targets = _target_kinds("Gateway", what="a VpcAssociationPolicy")


class VpcAssociationPolicy(Strict):
    apiVersion: Literal["application-networking.k8s.aws/v1alpha1"]
    kind: Literal["VpcAssociationPolicy"]
    metadata: ObjectMeta
    spec: VpcAssociationPolicySpec


KINDS = {(API_VERSION, m.__name__): m for m in
         (ServiceExport, ServiceImport, TargetGroupPolicy, IAMAuthPolicy, VpcAssociationPolicy)}

