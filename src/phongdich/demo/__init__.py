"""Demo data: a realistic Cao Bằng, filled by `phongdich demo` and `serve --demo`."""
