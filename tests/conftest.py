"""Shared test setup.

``MockKdbServer`` is re-exported here so the seed's ``from tests.conftest import MockKdbServer``
keeps working; the ``mock_kdb_server`` fixture comes from the ``qorm.testing`` pytest plugin.
"""

from __future__ import annotations

from qorm.testing import MockKdbServer

__all__ = ["MockKdbServer"]
