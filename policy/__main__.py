"""The clusterfabric policy pack: `pulumi preview --policy-pack policy/` (or `clusterfabric preview`).

Every enforcement level can be changed with a policy pack config file, as for
any CrossGuard pack: `{"lattice-service-auth": "mandatory"}` or
`{"cluster-rbac-outside-platform": {"enforcementLevel": "advisory"}}`.
"""

import sys
from pathlib import Path
from typing import Any, Callable
from unittest import mock

import pulumi_policy.policy as policy_runtime
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy.deserialize import deserialize_properties

from clusterfabric.components.model.json_values import DESCEND, is_secret, rebuilt

sys.path.insert(0, str(Path(__file__).resolve().parent))
import rules  # noqa: E402  (this folder is the pack; its rules sit beside this file)

MANDATORY, ADVISORY = EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY


def _keep_secret_marks(props: Any) -> Any:
    """The engine's properties with secrets as rules.Secret (the SDK's own reading drops the mark)."""
    return rebuilt(props, lambda v: rules.Secret(_keep_secret_marks(v.get("value"))) if is_secret(v) else DESCEND)


def _deserialize(props: dict, proxy_secrets: bool = False) -> Any:
    if proxy_secrets:  # remediations: the SDK's own behaviour
        return deserialize_properties(props, proxy_secrets)
    return _keep_secret_marks(deserialize_properties_keeping_secrets(props))


def deserialize_properties_keeping_secrets(props: dict) -> dict:
    # Assets and archives still decoded by the SDK; secret envelopes left for _keep_secret_marks.
    return {k: v if is_secret(v) else deserialize_properties({k: v})[k] for k, v in props.items()}



def resource_policy(name: str, description: str, level: EnforcementLevel, rule: Callable, raw: bool = False):
    def validate(args, report_violation):
        props = args.props if raw else rules.plain(args.props)
        for message in rule(args.resource_type, props, args.urn):
            report_violation(message)
    return ResourceValidationPolicy(name=name, description=description, enforcement_level=level, validate=validate)


def stack_policy(name: str, description: str, level: EnforcementLevel, rule: Callable):
    def validate(args, report_violation):
        resources = [(r.resource_type, rules.plain(r.props), r.urn) for r in args.resources]
        for message in rule(resources):
            report_violation(message)
    return StackValidationPolicy(name=name, description=description, enforcement_level=level, validate=validate)


# The SDK's servicer reads every resource's properties with its module's `deserialize_properties`, which drops
# the secret marks the `secrets-are-secret` rule needs, and offers no hook: the pack's own reading stands in for it
# while the pack serves (PolicyPack serves until the engine stops it), and nowhere else.
with mock.patch.object(policy_runtime, "deserialize_properties", _deserialize):
    PolicyPack(
        name="clusterfabric",
        enforcement_level=MANDATORY,
        policies=[
            resource_policy("lattice-network-auth", "Lattice service networks use AWS_IAM auth.", MANDATORY,
                            rules.lattice_network_auth),
            resource_policy("lattice-service-auth", "Lattice services use AWS_IAM auth of their own.", ADVISORY,
                            rules.lattice_service_auth),
            resource_policy("lattice-auth-policy-principals", "Lattice auth policies name their principals "
                            "(no Principal \"*\" without a Condition).", MANDATORY, rules.lattice_auth_policy_principals),
            resource_policy("lattice-api-limits", "Lattice names, ports and priorities are within the API's limits.",
                            MANDATORY, rules.lattice_limits),
            resource_policy("lattice-forward-actions", "A forward action has 1-10 target groups, weights 0-999 and a "
                            "positive total weight.", MANDATORY, rules.lattice_forward_actions),
            resource_policy("clusterlink-import-target-port", "An Import's targetPort is in 1024-49151.", MANDATORY,
                            rules.import_target_port),
            stack_policy("clusterlink-unique-target-ports", "No two Imports of a cluster share a targetPort.", MANDATORY,
                         rules.unique_target_ports),
            stack_policy("clusterlink-access", "Every Export and Import has an AccessPolicy that can allow it.",
                         MANDATORY, rules.clusterlink_access),
            resource_policy("clusterlink-namespaced-sharing", "No PrivilegedAccessPolicy: sharing stays namespaced.",
                            ADVISORY, rules.privileged_access_policy),
            resource_policy("cluster-rbac-outside-platform", "No ClusterRole or ClusterRoleBinding outside the "
                            "ClusterLink platform.", MANDATORY, rules.cluster_rbac),
            resource_policy("secrets-are-secret", "Kubernetes Secret data and private keys are Pulumi secrets.",
                            MANDATORY, rules.secrets_are_secret, raw=True),
            stack_policy("exported-services-not-public", "An exported Service is not a LoadBalancer unless marked "
                         f"{rules.PUBLIC_ANNOTATION}: \"true\".", MANDATORY, rules.exposed_exports),
        ],
    )
