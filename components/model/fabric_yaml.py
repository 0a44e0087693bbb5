"""The fabric: `fabric.yaml` lists the clusters, one Pulumi stack each."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from .age import recipient_problem
from .certificates import CertificateSettings
from .clusterlink import ClusterLinkSettings
from .kubernetes import DNSLabel
from .lattice import LatticeFabricSettings, LatticeSettings

FABRIC_FILE = "fabric.yaml"


def _age_recipient(text: str) -> str:
    problem = recipient_problem(text)
    if problem:
        raise ValueError(f"{text!r}: {problem}")
    return text


AgeRecipient = Annotated[str, AfterValidator(_age_recipient)]
MAX_AGE_RECIPIENTS = 16


class GitOpsSettings(BaseModel):
    """`gitops:` of a cluster: how its stack's published folder (`python -m clusterfabric.gitops.rendered`, the
    deploy workflow's `rendered` branch) is made."""

    model_config = ConfigDict(extra="forbid")

    sopsAgeRecipients: list[AgeRecipient] = Field(default_factory=list, max_length=MAX_AGE_RECIPIENTS)
    """The age public keys (`age1` + 58 bech32 characters, as `age-keygen -y` prints them) the stack's Secrets are
    encrypted for with SOPS in the published folder: whoever holds one of the private keys (Flux's
    `decryption.secretRef`, an Argo CD plugin) can decrypt them. At most 16, no repeats (each adds a stanza to every
    encrypted file). Empty or absent: the published folder leaves the Secrets out (docs/secrets.md)."""

    @model_validator(mode="after")
    def _no_repeats(self) -> "GitOpsSettings":
        seen: set[str] = set()
        for i, recipient in enumerate(self.sopsAgeRecipients):
            if recipient in seen:
                raise ValueError(f"sopsAgeRecipients[{i}]: {recipient!r} is listed twice")
            seen.add(recipient)
        return self


class ClusterSpec(BaseModel):
    """One cluster of the fabric; its stack has the same name."""

    model_config = ConfigDict(extra="forbid")

    name: DNSLabel = Field(description="Cluster and stack name, a DNS-1123 label.")
    dataplane: Literal["clusterlink", "lattice"] = Field(
        description="How this cluster shares services: ClusterLink or Amazon VPC Lattice."
    )
    clusterlink: ClusterLinkSettings | None = None
    """ClusterLink settings (dataplane clusterlink); defaults apply when absent."""
    lattice: LatticeSettings | None = None
    """VPC Lattice settings (dataplane lattice); required for such a cluster."""
    gitops: GitOpsSettings = Field(default_factory=GitOpsSettings)
    """How the stack's manifests are published for Argo CD and Flux: the age recipients of its Secrets."""

    @model_validator(mode="after")
    def _settings_match_dataplane(self) -> "ClusterSpec":
        if self.dataplane == "clusterlink":
            if self.lattice is not None:
                raise ValueError(f"cluster {self.name!r} uses dataplane clusterlink: remove its lattice settings")
            if self.clusterlink is None:
                self.clusterlink = ClusterLinkSettings()
        else:
            if self.clusterlink is not None:
                raise ValueError(f"cluster {self.name!r} uses dataplane lattice: remove its clusterlink settings")
            if self.lattice is None:
                raise ValueError(f"cluster {self.name!r} uses dataplane lattice: it needs lattice settings "
                                 "(accountId, region, vpcId, and targets once it exports)")
        return self


class FabricSpec(BaseModel):
    """The whole of `fabric.yaml`."""

    model_config = ConfigDict(extra="forbid")

    name: DNSLabel = Field(default="clusterfabric", description="The fabric's name (the CA's subject).")
    clusters: list[ClusterSpec] = Field(min_length=1)
    lattice: LatticeFabricSettings = Field(default_factory=LatticeFabricSettings)
    """What holds for all Lattice clusters: raised Service Quotas per account and Region."""
    certificates: CertificateSettings = Field(default_factory=CertificateSettings)
    """The ClusterLink certificates' validity, when to warn before they expire, and how long a rotation waits."""

    @model_validator(mode="after")
    def _unique_names(self) -> "FabricSpec":
        seen: set[str] = set()
        for cluster in self.clusters:
            if cluster.name in seen:
                raise ValueError(f"cluster {cluster.name!r} is listed twice; each cluster is one stack")
            seen.add(cluster.name)
        return self

    @model_validator(mode="after")
    def _network_owners(self) -> "FabricSpec":
        lattice = {c.name for c in self.clusters if c.dataplane == "lattice"}
        for i, network in enumerate(self.lattice.serviceNetworks):
            if network.owner is not None and network.owner not in lattice:
                raise ValueError(f"lattice.serviceNetworks[{i}].owner: {network.owner!r} is no Lattice cluster of this "
                                 f"fabric (Lattice clusters: {', '.join(sorted(lattice)) or 'none'})")
        return self

    def cluster(self, name: str) -> ClusterSpec:
        for cluster in self.clusters:
            if cluster.name == name:
                return cluster
        known = ", ".join(c.name for c in self.clusters)
        raise KeyError(f"no cluster {name!r} in {FABRIC_FILE} (clusters: {known})")
