"""Stubs for the optional C extension: kdb+'s IPC compression (see qorm.protocol.compress)."""

def compress(message: bytes | bytearray | memoryview, /) -> bytes | None:
    """The message compressed as kdb+ does it, or None when it is not compressed."""

def decompress(message: bytes | bytearray | memoryview, /) -> bytes:
    """The uncompressed message; raises qorm.exc.DeserializationError on a corrupt frame."""
