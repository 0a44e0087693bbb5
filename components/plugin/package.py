"""What the package serves: the components of each module, by the module of their tokens."""

from ..clusterlink import AccessPolicy, Export, Import, Peer, Platform
from ..component import PACKAGE
from ..lattice import GRPCRoute, HTTPRoute, ServiceExport, ServiceImport, ServiceNetwork, TLSRoute
from .provider import Package

MODULES = {
    "clusterlink": [Platform, Export, Import, Peer, AccessPolicy],
    "lattice": [ServiceNetwork, ServiceExport, ServiceImport, HTTPRoute, GRPCRoute, TLSRoute],
}


def package() -> Package:
    return Package(PACKAGE, MODULES)  # the first part of its components' tokens
