"""Tracing: cases (F0), exposure candidates from check-ins (F1/F2), warnings and follow-up.

F0 is a confirmed case; F1 a close contact of an F0 during the infectious window; F2 a close
contact of an F1 between the F1's exposure and quarantine (Ministry of Health, late 2021).
"""
