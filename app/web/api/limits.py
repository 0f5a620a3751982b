"""The API's rate limit (``API_RATE_LIMIT``, default 300 per minute), counted per token (its
hash), or per address for calls without one. Applied once per blueprint, at import."""

from __future__ import annotations

from flask import Blueprint, current_app, request

from app.extensions import limiter
from app.services import api_tokens
from app.web.api.errors import get_remote_key


def rate_key() -> str:
    """Rate-limit bucket: the token's hash when the request carries one, else the address."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return "token:" + api_tokens.hash_token(header[7:].strip())
    return "address:" + get_remote_key()


def rate_limited(blueprint: Blueprint) -> Blueprint:
    limiter.limit(
        lambda: current_app.config.get("API_RATE_LIMIT", "300 per minute"), key_func=rate_key
    )(blueprint)
    return blueprint
