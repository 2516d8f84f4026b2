"""The transactional outbox: deliveries to other systems, queued in the transaction of the write that calls for
them and delivered by ``ilp worker`` in order per ordering key, with retries, dead letters and the ids the
destinations return (see repository.py for the ordering scheme and worker.py for the delivery loop)."""
