"""Venues: registration, staff, signed QR posters, activity counters."""
