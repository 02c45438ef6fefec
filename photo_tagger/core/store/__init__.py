"""The store: every SQL statement of the catalogue, one module per concern (docs/store-plan.md).

Nothing is re-exported here: import the concern you need (`from photo_tagger.core.store import settings`).
"""
