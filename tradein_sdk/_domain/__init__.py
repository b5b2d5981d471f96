"""The domain: what a trade-in is, pure (no database, no HTTP, no web framework, no clock of its own).

Money and identifiers, the device catalog and its search, pricing, quotes and their signed tokens,
promotions, checkout, insurance offers, the audit chain, webhook signing, the answers a device must fit and
the order state machine (:mod:`.orders`). Everything here takes its inputs as arguments; the application
layer (:mod:`tradein_sdk._app`) reads and writes them through the ports (:mod:`tradein_sdk._ports`).
"""
