"""The HTTP edge above resources/, security/ and audit/: what wires them into one application."""
