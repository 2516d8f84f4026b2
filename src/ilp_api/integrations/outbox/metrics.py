"""The outbox in /metrics, read from the database at scrape time: per registered destination, the items still to
deliver, the age of the oldest of them, and the dead letters."""

import logging
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from ilp_api.db.base import utc_now
from ilp_api.db.engine import Database
from ilp_api.integrations.outbox import repository
from ilp_api.integrations.outbox.registry import DestinationRegistry

log = logging.getLogger(__name__)


class OutboxCollector(Collector):
    def __init__(
        self, database: Database, registry: DestinationRegistry, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.database = database
        self.registry = registry
        self.clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            with self.database.session(write=False) as session:
                found = repository.depths(session, self.registry.names())
        except SQLAlchemyError:  # the rest of /metrics still answers while the database is down
            log.warning("outbox metrics left out: the database did not answer")
            return
        depth = GaugeMetricFamily(
            "ilp_outbox_depth",
            "Outbox items still to deliver (pending or failed), by destination",
            labels=["destination"],
        )
        age = GaugeMetricFamily(
            "ilp_outbox_oldest_age_seconds",
            "Age of the oldest outbox item still to deliver, by destination (0: none)",
            labels=["destination"],
        )
        dead = GaugeMetricFamily(
            "ilp_outbox_dead",
            "Dead outbox items, waiting for a fix and a retry, by destination",
            labels=["destination"],
        )
        now = self.clock()
        for name, backlog in sorted(found.items()):
            oldest = backlog.oldest_unfinished
            depth.add_metric([name], backlog.unfinished)
            age.add_metric([name], (now - oldest).total_seconds() if oldest else 0.0)
            dead.add_metric([name], backlog.dead)
        yield from (depth, age, dead)
