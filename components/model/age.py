"""age recipients (public keys) as fabric.yaml names them: `age1` followed by the bech32 data part of an X25519
public key (age's format, https://age-encryption.org/v1: the bech32 encoding of BIP 173, lowercase, human-readable
part `age`, 32 bytes of key, 62 characters in all). Pure: no pulumi, no crypto library."""

from __future__ import annotations

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
HRP = "age"
KEY_BYTES = 32
LENGTH = len(HRP) + 1 + (KEY_BYTES * 8 + 4) // 5 + 6  # "age" "1" 52 data characters, 6 checksum: 62


def _polymod(values: list[int]) -> int:
    generator = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            checksum ^= generator[i] if (top >> i) & 1 else 0
    return checksum


def _expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _regroup(data: list[int], source: int, target: int, pad: bool) -> list[int] | None:
    accumulator, bits, out = 0, 0, []
    for value in data:
        accumulator = (accumulator << source) | value
        bits += source
        while bits >= target:
            bits -= target
            out.append((accumulator >> bits) & ((1 << target) - 1))
    if pad and bits:
        out.append((accumulator << (target - bits)) & ((1 << target) - 1))
    elif not pad and (bits >= source or (accumulator << (target - bits)) & ((1 << target) - 1)):
        return None
    return out


def encode(hrp: str, data: bytes) -> str:
    """bech32 (BIP 173) of `data` under `hrp`, lowercase: how age writes recipients and (uppercase) identities."""
    five = _regroup(list(data), 8, 5, pad=True)
    assert five is not None
    polymod = _polymod(_expand(hrp) + five + [0] * 6) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(CHARSET[d] for d in five + checksum)


def recipient_problem(text: str) -> str | None:
    """Why `text` is no age X25519 recipient, or None when it is one."""
    if not text.startswith(HRP + "1"):
        return "an age recipient starts with 'age1' (an age public key, as `age-keygen -y` prints it)"
    if text != text.lower():
        return "an age recipient is lowercase"
    if len(text) != LENGTH:
        return f"an age recipient is {LENGTH} characters long, this one {len(text)}"
    data = text[len(HRP) + 1:]
    if any(c not in CHARSET for c in data):
        bad = sorted({c for c in data if c not in CHARSET})
        return f"{''.join(bad)!r} is no bech32 character (an age recipient uses {CHARSET})"
    values = [CHARSET.index(c) for c in data]
    if _polymod(_expand(HRP) + values) != 1:
        return "its bech32 checksum is wrong (a character mistyped or lost?)"
    if _regroup(values[:-6], 5, 8, pad=False) is None:
        return "its bech32 data is not a whole 32-byte key"
    return None
