"""The remote edge: the facade's use cases over HTTP.

One table of operations (:mod:`.api`) drives the WSGI service (:mod:`.service`), its OpenAPI document
(:mod:`.openapi`) and the typed clients (:mod:`.client` over :mod:`.transport`); :mod:`.provider` turns a
provider's signed webhooks into order transitions.
"""
