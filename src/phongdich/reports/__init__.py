"""Reports for officials and the steering committee, scoped to the reader's area."""
