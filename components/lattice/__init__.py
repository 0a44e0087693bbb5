"""VPC Lattice components, provisioned the way the AWS Gateway API Controller would.

The public components, usable alone in any Pulumi program (docs/components.md, `## VPC Lattice`):
ServiceNetwork, ServiceExport, ServiceImport, and the route components HTTPRoute, GRPCRoute and TLSRoute. Importing this
package imports pulumi_aws: the fabric imports it for Lattice clusters only (components/cluster.py).
"""

from .export import ServiceExport, ServiceExportArgs
from .network import ServiceNetwork, ServiceNetworkArgs
from .route import GRPCRoute, HTTPRoute, TLSRoute
from .route_args import RouteArgs
from .service_import import ServiceImport, ServiceImportArgs

__all__ = ["GRPCRoute", "HTTPRoute", "RouteArgs", "ServiceExport", "ServiceExportArgs", "ServiceImport",
           "ServiceImportArgs", "ServiceNetwork", "ServiceNetworkArgs", "TLSRoute"]
