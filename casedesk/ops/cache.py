"""Django's built-in Redis cache, made to survive a Redis outage.

With CASEDESK_REDIS_URL set, the cache and the session cache live in Redis. Django's
RedisCache raises on every call while Redis is down, which would turn a cache outage into
a site outage. Here a connection error or timeout is logged and answered as a miss (reads)
or a no-op (writes): pages are computed from the database, and sessions (cached_db) are
read from and written to the database as usual. Entries written before the outage expire
on their own timeouts (a minute for the site settings).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
# One warning per this many seconds per process, not one per request.
WARN_EVERY = 30.0
_last_warning = 0.0


def _degrade(default: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def inner(*args: Any, **kwargs: Any) -> Any:
            global _last_warning
            try:
                return method(*args, **kwargs)
            except (RedisConnectionError, RedisTimeoutError) as error:
                now = time.monotonic()
                if now - _last_warning > WARN_EVERY:
                    _last_warning = now
                    log.warning("Redis unavailable (%s): running without the cache", error)
                return default(*args, **kwargs) if callable(default) else default
        return inner
    return wrap


class ResilientRedisClient(RedisCacheClient):
    get = _degrade(lambda self, key, default: default)(RedisCacheClient.get)
    get_many = _degrade({})(RedisCacheClient.get_many)
    has_key = _degrade(False)(RedisCacheClient.has_key)
    add = _degrade(False)(RedisCacheClient.add)
    set = _degrade(None)(RedisCacheClient.set)
    set_many = _degrade([])(RedisCacheClient.set_many)
    touch = _degrade(False)(RedisCacheClient.touch)
    # Counters (API rate limits, sign-in throttling) count nothing while Redis is down:
    # limits are off for the outage rather than every sign-in failing.
    incr = _degrade(0)(RedisCacheClient.incr)
    delete = _degrade(False)(RedisCacheClient.delete)
    delete_many = _degrade(None)(RedisCacheClient.delete_many)
    clear = _degrade(False)(RedisCacheClient.clear)


class ResilientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ResilientRedisClient
