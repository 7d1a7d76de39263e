"""Imports every core table so that ``metadata`` is complete (for migrations and tests)."""

from __future__ import annotations

from loyalty_core.apikeys.tables import api_keys
from loyalty_core.audit.tables import audit_log
from loyalty_core.db.metadata import metadata
from loyalty_core.events.tables import event_types, events
from loyalty_core.ledger.tables import (
    assets,
    ledger_accounts,
    ledger_entries,
    ledger_lots,
    ledger_transactions,
)
from loyalty_core.members.tables import member_identifiers, members
from loyalty_core.modules.tables import tenant_modules
from loyalty_core.outbox.tables import outbox
from loyalty_core.rules.tables import (
    rule_awards,
    rule_campaign_versions,
    rule_campaigns,
    rule_member_counters,
    rule_occurrences,
    rule_segments,
)
from loyalty_core.tenants.tables import tenants

__all__ = [
    "api_keys",
    "assets",
    "audit_log",
    "event_types",
    "events",
    "ledger_accounts",
    "ledger_entries",
    "ledger_lots",
    "ledger_transactions",
    "member_identifiers",
    "members",
    "metadata",
    "outbox",
    "rule_awards",
    "rule_campaign_versions",
    "rule_campaigns",
    "rule_member_counters",
    "rule_occurrences",
    "rule_segments",
    "tenant_modules",
    "tenants",
]
