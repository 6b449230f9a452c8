"""After the close (ARCHITECTURE.md, flow step 5): reconcile, settle, measure, build the sync payload.

Pure logic on the domain: the engine-side runner (`service.py`) reads the books and the broker's, the
storage layer writes what comes out (`app/storage/eod_store.py`), the clients deliver the payload.
"""
