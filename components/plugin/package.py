"""What the package serves: the components of each module, by the module of their tokens."""

from components.clusterlink import AccessPolicy, Export, Import, Peer, Platform
from components.lattice import ServiceExport, ServiceImport, ServiceNetwork
from components.plugin.provider import Package

NAME = "clusterfabric"
MODULES = {
    "clusterlink": [Platform, Export, Import, Peer, AccessPolicy],
    "lattice": [ServiceNetwork, ServiceExport, ServiceImport],
}


def package() -> Package:
    return Package(NAME, MODULES)
