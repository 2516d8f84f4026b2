"""``ilp worker`` with a slow test destination, "slow-sink", registered: run as a script by the stop tests.

Each delivery takes SLOW_SINK_SECONDS; the arguments are the worker command's.
"""

import asyncio
import os
import sys

from ilp_api.cli import app
from ilp_api.db.engine import Database
from ilp_api.fhir.service import ResourceService
from ilp_api.integrations.outbox.destination import Delivered, Delivery, DeliveryResult
from ilp_api.integrations.outbox.registry import Registration, destinations
from ilp_api.settings import Settings


class SlowSink:
    name = "slow-sink"

    async def deliver(self, delivery: Delivery) -> DeliveryResult:
        await asyncio.sleep(float(os.environ["SLOW_SINK_SECONDS"]))
        return Delivered()


def build(database: Database, settings: Settings, service: ResourceService) -> SlowSink:
    return SlowSink()


if __name__ == "__main__":
    destinations.register(Registration("slow-sink", build))
    app(["worker", *sys.argv[1:]])
