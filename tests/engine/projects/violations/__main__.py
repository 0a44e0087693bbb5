"""One deliberate violation of the clusterfabric policy pack, chosen by the stack config `case`."""

import pulumi
import pulumi_kubernetes as k8s

case = pulumi.Config().require("case")
render = k8s.Provider("render", render_yaml_to_directory="rendered")
opts = pulumi.ResourceOptions(provider=render)
PEM = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n"


def cr(name, kind, spec, namespace="shop"):
    return k8s.apiextensions.CustomResource(name, api_version="clusterlink.net/v1alpha1", kind=kind,
                                            metadata={"name": name, "namespace": namespace}, spec=spec, opts=opts)


def allow_all():
    cr("allow-all", "AccessPolicy", {"action": "allow", "from": [{"workloadSelector": {}}],
                                     "to": [{"workloadSelector": {}}]})


def imp(name, target_port):
    cr(name, "Import", {"port": 80, "targetPort": target_port, "lbScheme": "random",
                        "sources": [{"peer": "east", "exportName": name, "exportNamespace": "shop"}]})


if case == "cluster-rbac":
    k8s.rbac.v1.ClusterRole("reader", metadata={"name": "reader"},
                            rules=[{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}], opts=opts)
elif case == "plaintext-key":
    k8s.core.v1.ConfigMap("leaked", metadata={"name": "leaked", "namespace": "shop"}, data={"key.pem": PEM},
                          opts=opts)
elif case == "import-target-port":
    allow_all()
    imp("cart", 80)
elif case == "shared-target-port":
    allow_all()
    imp("cart", 20000)
    imp("orders", 20000)
elif case == "no-access-policy":
    cr("cart", "Export", {"host": "cart", "port": 80})
elif case == "public-export":
    allow_all()
    k8s.core.v1.Service("cart", metadata={"name": "cart", "namespace": "shop"},
                        spec={"type": "LoadBalancer", "selector": {"app": "cart"}, "ports": [{"port": 80}]}, opts=opts)
    cr("cart", "Export", {"host": "cart", "port": 80})
else:
    raise ValueError(f"unknown case {case!r}")
