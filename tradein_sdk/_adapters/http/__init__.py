"""The HTTP adapters: cached documents (price feeds, insurance plans) and outgoing webhooks, on httpx."""
