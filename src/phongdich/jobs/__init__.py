"""Periodic jobs and queued background jobs, run by `phongdich worker` or inside `serve`."""
