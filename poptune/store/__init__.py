"""The run's durable memory: an append-only event log in SQLite."""

from poptune.store import events
from poptune.store.events import Event
from poptune.store.store import FILENAME, Store, store_path

__all__ = ["FILENAME", "Event", "Store", "events", "store_path"]
