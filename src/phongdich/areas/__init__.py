"""Administrative areas: the 2021 and 2025 trees, loading, search and containment."""
