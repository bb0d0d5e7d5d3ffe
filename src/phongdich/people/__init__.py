"""People: identity documents, dependants, personal QR codes and merging duplicates."""
