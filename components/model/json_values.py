"""JSON-like values as Pulumi hands them around (resource inputs, stack state, a policy's properties, a package's
schema): the one walk that rebuilds them, and Pulumi's mark of a secret.

Here, at the bottom of the layers, so that the model, the components, the policy pack and the fabric layer share
them. clusterfabric/offline/mocked.py keeps a copy of the walk (its whole_numbers): it imports nothing of the
program, as the tests run older releases' programs under it.
"""

from collections.abc import Callable, Mapping
from typing import Any

SIG_KEY = "4dabf18193072939515e22adb298388d"
"""The key by which Pulumi marks a special value (a secret, an asset...) among serialized properties."""
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
"""Its value on a secret: `{SIG_KEY: SECRET_SIG, "value": ...}` (in a stack's state `ciphertext`, or `plaintext`
when exported with --show-secrets)."""


def is_secret(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get(SIG_KEY) == SECRET_SIG


DESCEND = object()
"""What `rebuilt`'s `at` answers for a node it leaves to the walk."""


def rebuilt(value: Any, at: Callable[[Any], Any], key: Callable[[Any], Any] = lambda k: k) -> Any:
    """`value`, a tree of mappings, lists and scalars, rebuilt: each node is what `at` answers for it, unless that
    is DESCEND; then a mapping (its keys made by `key`) or a list is rebuilt of its items, anything else kept."""
    found = at(value)
    if found is not DESCEND:
        return found
    if isinstance(value, Mapping):
        return {key(k): rebuilt(v, at, key) for k, v in value.items()}
    if isinstance(value, list):
        return [rebuilt(v, at, key) for v in value]
    return value
