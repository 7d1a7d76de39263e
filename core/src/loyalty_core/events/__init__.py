"""Events: everything a member does on any channel, ingested idempotently and rewarded by rules."""
