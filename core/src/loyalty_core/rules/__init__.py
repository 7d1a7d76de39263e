"""Campaigns: rules a retailer configures to reward what members do, without a release.

A campaign has a current state (``rule_campaigns``) and immutable versions
(``rule_campaign_versions``); editing an active campaign adds a version, and every ledger
transaction a campaign causes names the campaign and the version (``Cause.rule_id`` and
``Cause.rule_version``), so a balance can be explained.

One evaluation path serves live ingestion and backtests (``engine.evaluate``): what differs is
the sink, which either posts through the ledger and reserves budget and limits with atomic
conditional updates (``LedgerSink``), or counts in memory (``MemorySink``). That is why a
backtest over the event log awards what live processing of the same events awarded.
"""
