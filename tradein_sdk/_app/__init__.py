"""The application layer: the :class:`~tradein_sdk.TradeIn` facade and its use cases.

Each use case reads through the ports, asks the domain what follows, and writes the result back in one
transaction (quotes, orders and their audit entries, checkout, the webhook outbox).
"""
