"""Adapters: the ports (:mod:`tradein_sdk._ports`) implemented on real parts.

- :mod:`.sql`: the SQL store (SQLAlchemy Core; SQLite by default, PostgreSQL for many instances), its schema
  and migrations, the audit log and webhook receipts;
- :mod:`.http`: documents fetched over HTTP (price feeds, insurance plans) and the webhook sender;
- :mod:`.prices`: price books in memory or from a feed; :mod:`.fulfilment`: the shop's own counter.

Adapters never import the application (:mod:`tradein_sdk._app`) or the remote edge
(:mod:`tradein_sdk._remote`).
"""
