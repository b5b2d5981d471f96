"""Helpers for testing an integration of tradein-sdk.

- :func:`retry_delays_disabled`: a context manager that turns the HTTP clients' backoff delays into no-ops,
  so retry tests run instantly (``with retry_delays_disabled(): ...``, or in a pytest fixture).
"""

from tradein_sdk._transport import retry_delays_disabled

__all__ = ["retry_delays_disabled"]
