"""Blixo: REST client, webhook verification, record and event models.

Import from the submodules (``bisync.blixo.client``, ``.webhooks``, ``.models``, ``.errors``):
this package imports nothing itself, so the webhook Lambda does not pay for ``requests`` and
``tenacity`` at cold start. Everything assumed about Blixo's API lives in ``bisync.blixo.api``.
"""
