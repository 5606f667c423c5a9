"""The run's durable memory: an append-only event log in SQLite (events: :mod:`poptune.core.events`)."""

from poptune.store.store import FILENAME, Store, store_path

__all__ = ["FILENAME", "Store", "store_path"]
