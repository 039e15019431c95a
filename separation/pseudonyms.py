"""Keyed pseudonyms: the linkage key and HMAC-SHA256 of ids (used by the separation step).

The key comes from ``TRIANGULATE_LINKAGE_KEY`` or the file named by
``TRIANGULATE_LINKAGE_KEY_FILE``; a run on synthetic data may fall back to a published demo
key, with a warning. The key is never logged or written.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import polars as pl

logger = logging.getLogger(__name__)

KEY_ENV = "TRIANGULATE_LINKAGE_KEY"
KEY_FILE_ENV = "TRIANGULATE_LINKAGE_KEY_FILE"
DEMO_KEY = b"triangulate-demo-linkage-key: not secret, synthetic data only"
MIN_KEY_BYTES = 16


class SeparationError(ValueError):
    """No usable linkage key, or an input the separation step cannot read."""


class MissingKeyError(SeparationError):
    """No linkage key is configured and the demo key is not allowed."""


def linkage_key(*, demo: bool) -> bytes:
    """The secret key of the keyed hashes.

    Parameters
    ----------
    demo
        True for runs on synthetic data: without a configured key, the published demo key
        is used (with a warning) rather than stopping the run.

    Raises
    ------
    SeparationError
        No key is configured outside demo mode, or the key is shorter than 16 bytes.
    """
    value = os.environ.get(KEY_ENV, "").encode("utf-8")
    source = KEY_ENV
    if not value and os.environ.get(KEY_FILE_ENV):
        path = Path(os.environ[KEY_FILE_ENV])
        try:
            value = path.read_bytes().strip()
        except OSError as exc:
            raise SeparationError(
                f"{KEY_FILE_ENV}={path}: cannot read the key file ({exc})"
            ) from None
        source = f"{KEY_FILE_ENV} ({path})"
    if not value:
        if not demo:
            raise MissingKeyError(
                f"no linkage key: set {KEY_ENV} or {KEY_FILE_ENV} (a demo key is only "
                "allowed for synthetic data)"
            )
        logger.warning(
            "No linkage key set (%s or %s): using the demo key, so pseudonyms are not "
            "secret. Acceptable for synthetic data only.",
            KEY_ENV,
            KEY_FILE_ENV,
        )
        return DEMO_KEY
    if len(value) < MIN_KEY_BYTES:
        raise SeparationError(f"the key from {source} is shorter than {MIN_KEY_BYTES} bytes")
    return value


# HMAC-SHA256 by its definition (RFC 2104) on precomputed pad states: copying two hash
# states per value is about twice as fast as ``hmac.new`` and gives the same digests, and a
# million-person run hashes millions of ids.
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


def _hmac_sha256_hex(key: bytes, prefix: bytes, values: list[str]) -> list[str]:
    """HMAC-SHA256 (hex) of ``prefix + value`` for each value."""
    if len(key) > 64:  # the SHA-256 block size
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner = hashlib.sha256(key.translate(_IPAD))
    inner.update(prefix)
    outer = hashlib.sha256(key.translate(_OPAD))
    digests = []
    for value in values:
        first = inner.copy()
        first.update(value.encode("utf-8"))
        second = outer.copy()
        second.update(first.digest())
        digests.append(second.hexdigest())
    return digests


def keyed_hash(
    values: pl.Series,
    key: bytes,
    namespace: str,
    cache: dict[str, pl.DataFrame] | None = None,
) -> pl.Series:
    """HMAC-SHA256 (hex) of each value, prefixed by a namespace; nulls stay null.

    Parameters
    ----------
    values
        The ids to pseudonymise.
    key
        The linkage key.
    namespace
        ``record`` or ``person``: the same id gets different pseudonyms in each.
    cache
        Digests already computed under this key (namespace -> ``value``, ``digest``),
        extended in place: the same ids recur in every table of a run.
    """
    # Joins rather than ``replace_strict``/``is_in``: about twice as fast on millions of ids.
    frame = values.cast(pl.Utf8).to_frame("value")
    new = frame.drop_nulls().unique()
    known = cache.get(namespace) if cache is not None else None
    if known is not None:
        new = new.join(known, on="value", how="anti")
    values_new = new["value"].to_list()
    digests = pl.DataFrame(
        {
            "value": values_new,
            "digest": _hmac_sha256_hex(key, f"{namespace}:".encode(), values_new),
        },
        schema={"value": pl.Utf8, "digest": pl.Utf8},
    )
    if known is not None:
        digests = pl.concat([known, digests])
    if cache is not None:
        cache[namespace] = digests
    joined = frame.join(digests, on="value", how="left", maintain_order="left")
    return joined.get_column("digest").alias(values.name)
