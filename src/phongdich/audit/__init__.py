"""The audit log: every state-changing action writes one entry."""
