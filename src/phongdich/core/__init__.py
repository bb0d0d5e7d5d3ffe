"""Framework-free helpers shared by every domain: clock, errors, text, phones, i18n."""
