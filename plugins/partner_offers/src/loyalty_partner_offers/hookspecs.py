"""The hook this module defines (returned by its ``loyalty_hookspecs``): who the partners
are.

Offers are funded by partners, and a partner's own API key syncs its catalogue and reads its
offers' performance. Partners belong to the module that keeps them (clearing), which this
module never imports: it implements this hook, returning objects with ``name`` and

- ``async def partner_of_actor(conn, tenant_id, actor) -> uuid.UUID | None``: the partner an
  actor (``touchpoint:<API key id>``, from the credential) is bound to, or None;
- ``async def partner_exists(conn, tenant_id, partner_id) -> bool``: whether the tenant has
  that partner;
- ``async def partner_named(conn, tenant_id, name) -> uuid.UUID | None``: the partner of that
  name (how the demo finds the coalition's partners that fund its offers);
- ``async def may_fund(conn, tenant_id, partner_id, asset_code, at) -> bool``: whether the
  partner can pay for points awarded at ``at`` (so a reward it cannot pay for is skipped,
  and the purchase never fails for it).

Only the core's and the tenant's enabled modules' directories are asked, so a tenant without
clearing has no partners: a partner-funded offer there is ``MODULE_NOT_ENABLED``.
"""

from __future__ import annotations

from collections.abc import Sequence

from loyalty_core.sdk import hookspec

HOOK = "loyalty_partner_offers_partners"


@hookspec
def loyalty_partner_offers_partners() -> Sequence[object]:  # type: ignore[empty-body]
    """Partner directories (objects that satisfy ``loyalty_partner_offers.partners.Directory``)."""


__all__ = ["HOOK", "loyalty_partner_offers_partners"]
