"""Accounts, sign-in (password, phone code), API tokens and the one authorization mechanism."""
