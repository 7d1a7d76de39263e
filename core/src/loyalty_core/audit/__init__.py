"""The audit log: who changed what, for every administrative write."""
