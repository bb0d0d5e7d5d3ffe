"""Messages that leave the machine: SMS through an outbox and an optional HTTP gateway."""
