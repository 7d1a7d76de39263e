"""What authenticating a request reads, kept per process: API keys, tenants, their modules.

Every request needs its caller's tenant and the modules it enabled (they pick the schema), and
a till's request needs its API key checked. Read from the database that is a transaction of
its own before GraphQL runs, the largest fixed cost of a small request. So each gateway process
keeps what it read:

- per tenant: the tenant row and the enabled modules with their settings;
- per tenant, the members whose tokens were seen and whose member is not erased, so a
  member's token costs one read of its status per process (an erased member's token is
  refused, however long it has left to run);
- per API key: the principal it stands for, found by the digest of the whole key as
  presented (:func:`_digest`), so a request whose key is known is neither parsed nor
  compared again, and a caller presenting a known key id with another secret is checked
  against the database.
  Refusals are never kept: a new key works at once, and a wrong secret always costs a read.

Changes reach every replica through PostgreSQL: triggers on ``api_keys``, ``tenants`` and
``tenant_modules`` (migration ``0006_tenant_change_notify``) notify ``loyalty_tenant_changed``
with the tenant id when the writing transaction commits, whichever code wrote, and so does
the erasure of a member (the only way a member becomes erased); the process's
listener (:class:`loyalty_gateway.subscriptions.BalanceNotifier`) calls :meth:`changed`, which
drops that tenant's entries. While the listener is not connected nothing is served from the
cache, since a notification may be missed; on reconnect everything is dropped. Entries older
than ``caller_cache_seconds`` are read again as a backstop. A read that was in flight when a
notification arrived is not stored (the generation moved on), so it cannot put back the state
the notification invalidated.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from loyalty_core.apikeys.service import PresentedKey
from loyalty_core.auth import Principal
from loyalty_core.tenants.models import Tenant
from pydantic import BaseModel

MAX_TENANTS = 10_000
"""Tenants kept per process (with their keys); the least recently used go first."""

MAX_MEMBERS = 4_096
"""Members kept per tenant as not erased; when full, the tenant's set starts again."""


@dataclass(frozen=True)
class TenantEntry:
    """A tenant as authentication read it: its row and enabled modules with settings."""

    tenant: Tenant
    enabled_modules: Mapping[str, BaseModel]
    modules: frozenset[str]
    loaded_at: float


@dataclass(frozen=True)
class _KeyEntry:
    principal: Principal
    loaded_at: float


@dataclass
class _Slot:
    entry: TenantEntry | None = None
    keys: set[bytes] = field(default_factory=set)
    """Digests of the tenant's keys in :attr:`CallerCache._keys`, dropped with the tenant."""
    members: set[uuid.UUID] = field(default_factory=set)
    """Members of the tenant whose tokens may act: read, and not erased."""


class CallerCache:
    """The process's authentication reads, dropped per tenant on notification."""

    def __init__(
        self,
        ttl_seconds: float,
        *,
        live: Callable[[], bool],
        max_tenants: int = MAX_TENANTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._live = live
        self._max_tenants = max_tenants
        self._clock = clock
        self._slots: OrderedDict[uuid.UUID, _Slot] = OrderedDict()
        self._keys: dict[bytes, _KeyEntry] = {}
        self.generation = 0
        """Moves on with every notification; a read started at an older one is not stored."""

    @property
    def active(self) -> bool:
        """Whether entries may be served: caching on and the listener connected."""
        return self._ttl > 0 and self._live()

    def tenant(self, tenant_id: uuid.UUID) -> TenantEntry | None:
        slot = self._slot(tenant_id)
        if slot is None or slot.entry is None or self._stale(slot.entry.loaded_at):
            return None
        return slot.entry

    def principal(self, raw_key: str) -> Principal | None:
        """The principal of a key read before, if presented with the same secret."""
        found = self._keys.get(_digest(raw_key))
        if found is None or self._stale(found.loaded_at):
            return None
        return found.principal

    def member_may_act(self, tenant_id: uuid.UUID, member_id: uuid.UUID) -> bool:
        """Whether the member was read since the tenant last changed, and was not erased."""
        slot = self._slots.get(tenant_id)
        return slot is not None and member_id in slot.members and self.active

    def store_member(self, tenant_id: uuid.UUID, member_id: uuid.UUID, *, generation: int) -> None:
        """Keep a member read at ``generation`` as one whose token may act."""
        if not self._storable(generation):
            return
        members = self._ensure(tenant_id).members
        if len(members) >= MAX_MEMBERS:
            members.clear()
        members.add(member_id)

    def store_tenant(
        self,
        tenant: Tenant,
        enabled_modules: Mapping[str, BaseModel],
        *,
        generation: int,
    ) -> TenantEntry:
        """Keep what a read at ``generation`` found (unless a notification came since)."""
        entry = TenantEntry(
            tenant, dict(enabled_modules), frozenset(enabled_modules), self._clock()
        )
        if self._storable(generation):
            slot = self._ensure(tenant.id)
            slot.entry = entry
            slot.members = set()  # read again with the tenant, so the backstop covers them too
        return entry

    def store_principal(self, key: PresentedKey, principal: Principal, *, generation: int) -> None:
        """Keep a key that checked out at ``generation`` (unless a notification came since)."""
        if not self._storable(generation):
            return
        digest = _digest(key.raw)
        self._ensure(key.tenant_id).keys.add(digest)
        self._keys[digest] = _KeyEntry(principal, self._clock())

    def changed(self, tenant_id: uuid.UUID | None) -> None:
        """Forget a tenant (None: everything, as after the listener reconnected)."""
        self.generation += 1
        if tenant_id is None:
            self._slots.clear()
            self._keys.clear()
        else:
            self._drop(self._slots.pop(tenant_id, None))

    def __len__(self) -> int:
        return len(self._slots)

    def _slot(self, tenant_id: uuid.UUID) -> _Slot | None:
        slot = self._slots.get(tenant_id)
        if slot is not None:
            self._slots.move_to_end(tenant_id)
        return slot

    def _ensure(self, tenant_id: uuid.UUID) -> _Slot:
        slot = self._slot(tenant_id)
        if slot is None:
            slot = self._slots[tenant_id] = _Slot()
            if len(self._slots) > self._max_tenants:
                self._drop(self._slots.popitem(last=False)[1])
        return slot

    def _drop(self, slot: _Slot | None) -> None:
        for digest in slot.keys if slot is not None else ():
            self._keys.pop(digest, None)

    def _storable(self, generation: int) -> bool:
        return self.active and generation == self.generation

    def _stale(self, loaded_at: float) -> bool:
        return not self.active or self._clock() - loaded_at > self._ttl


def _digest(raw_key: str) -> bytes:
    """BLAKE2s of the key: a cryptographic hash, so the cache holds no secret, and one that
    never leaves the process. It is Python's own code; SHA-256 comes from OpenSSL 3, which
    Python 3.11 asks to look the algorithm up by name on every call: about 5 µs of each
    request in a gateway under load, three quarters of it the lookup."""
    return hashlib.blake2s(raw_key.strip().encode()).digest()


__all__ = ["MAX_MEMBERS", "MAX_TENANTS", "CallerCache", "TenantEntry"]
