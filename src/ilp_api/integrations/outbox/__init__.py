"""The generic transactional outbox: deliveries keyed by destination, delivered by ``ilp worker``."""
