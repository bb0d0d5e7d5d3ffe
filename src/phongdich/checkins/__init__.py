"""Check-ins: every way a visit is recorded, check-out rules, history, retention."""
