"""sha256 and blake2b from CPython's built-in modules rather than `hashlib`, which loads OpenSSL
(~2 ms of every `simray exec`) for the few short strings a session hashes into its ids.

The digests are the same bytes (standard algorithms); `hashlib` stands in where a build lacks
the built-ins."""

from __future__ import annotations

try:
    from _sha256 import sha256  # CPython 3.11
except ImportError:  # pragma: no cover - CPython 3.12+ names it _sha2; other builds: hashlib
    try:
        from _sha2 import sha256  # type: ignore[no-redef]
    except ImportError:
        from hashlib import sha256  # type: ignore[no-redef]
try:
    from _blake2 import blake2b
except ImportError:  # pragma: no cover
    from hashlib import blake2b  # type: ignore[no-redef]

__all__ = ["blake2b", "sha256"]
