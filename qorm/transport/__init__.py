"""Transports: they move bytes between a socket and the sans-IO protocol state machine.

:class:`SyncConnection` (blocking sockets) and :class:`AsyncConnection` (asyncio) share one
API; the protocol itself (handshake, framing, compression, message types) lives in
:mod:`qorm.protocol.connection`.
"""

from __future__ import annotations

from qorm.transport.aio import AsyncConnection
from qorm.transport.common import ConnectOptions
from qorm.transport.sync import SyncConnection

__all__ = ["AsyncConnection", "ConnectOptions", "SyncConnection"]
