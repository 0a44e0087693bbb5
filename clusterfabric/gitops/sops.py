"""SOPS with age, as the published GitOps folders use it: the real `sops` CLI (built by `scripts/setup test` into
.tools/bin from toolchain/sops, or any `sops` on PATH) encrypts a rendered Secret's `data` and `stringData` for a
cluster's age recipients (fabric.yaml `gitops.sopsAgeRecipients`), the rest of the object left readable, as Flux's
kustomize-controller and Argo CD's SOPS plugins expect. Also age key pairs, made with `cryptography`'s X25519 in
age's own text forms (what `age-keygen` prints), for tests and for `python -m clusterfabric.gitops.sops keygen`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from clusterfabric.components.model.age import encode
from ..toolchain import TOOLS

SOPS_VERSION = "v3.13.3"
"""The sops toolchain/sops/go.mod pins (a unit test holds them equal): what the toolchain action of a fabric repository
`clusterfabric init` made builds, where toolchain/ is not."""

ENCRYPTED_REGEX = "^(data|stringData)$"
"""Only a Secret's values are encrypted: Flux's documented setting, so names and labels stay reviewable."""


class SopsError(RuntimeError):
    """sops is missing or refused a file."""


def generate_identity() -> tuple[str, str]:
    """A new age X25519 key pair: (identity `AGE-SECRET-KEY-1...`, recipient `age1...`)."""
    key = X25519PrivateKey.generate()
    private = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return encode("age-secret-key-", private).upper(), encode("age", public)


def sops_command() -> str:
    """The `sops` on PATH, else the one `scripts/setup test` built."""
    found = shutil.which("sops") or shutil.which("sops", path=str(TOOLS / "bin"))
    if not found:
        raise SopsError("no sops: run scripts/setup test (it builds .tools/bin/sops from toolchain/sops), or put "
                        "sops on PATH")
    return found


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # No .sops.yaml of the working directory applies: every setting is on the command line.
    result = subprocess.run([sops_command(), *args], capture_output=True, text=True, env=env, cwd="/")
    if result.returncode != 0:
        raise SopsError(f"sops {args[0]} failed: {result.stderr.strip()}")
    return result


def encrypt_file(source: Path, destination: Path, recipients: list[str]) -> None:
    """Write `source` (a rendered Secret, YAML) to `destination` with its data and stringData encrypted for
    `recipients`; the plaintext never reaches `destination`."""
    if not recipients:
        raise ValueError("no age recipient to encrypt for")
    _run(["--encrypt", "--age", ",".join(recipients), "--encrypted-regex", ENCRYPTED_REGEX,
          "--input-type", "yaml", "--output-type", "yaml", "--output", str(destination.absolute()),
          str(source.absolute())])


def decrypt_file(path: Path, identity: str) -> str:
    """The plaintext of a SOPS-encrypted YAML file, decrypted with the age `identity`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")} | {"SOPS_AGE_KEY": identity}
    return _run(["--decrypt", "--input-type", "yaml", "--output-type", "yaml", str(path.absolute())], env=env).stdout


def main(argv: list[str] | None = None) -> None:
    """python -m clusterfabric.gitops.sops keygen: a new age key pair, as age-keygen prints it."""
    if (argv if argv is not None else sys.argv[1:]) != ["keygen"]:
        sys.exit("usage: python -m clusterfabric.gitops.sops keygen")
    identity, recipient = generate_identity()
    print(f"# public key: {recipient}\n{identity}")


if __name__ == "__main__":
    main()
