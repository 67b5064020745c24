"""Making fairseq2's native library loadable on machines without a system libsndfile.

``fairseq2n`` links against ``libsndfile.so.1``. Where the system has none (no apt), the copy
that the ``soundfile`` wheel ships is loaded first, with global symbols, which satisfies it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from pathlib import Path

__all__ = ["ensure_libsndfile"]

_loaded = False


def ensure_libsndfile() -> None:
    """Load a libsndfile fairseq2 can link against; call before importing fairseq2."""
    global _loaded
    if _loaded or ctypes.util.find_library("sndfile"):
        _loaded = True
        return
    try:
        import _soundfile_data  # type: ignore[import-untyped]  # the wheel's own libsndfile
    except ImportError:
        return  # fairseq2 raises its own error naming libsndfile
    folder = Path(_soundfile_data.__file__).parent
    for library in sorted(folder.glob("libsndfile*")):
        if library.suffix in {".so", ".dylib"}:
            ctypes.CDLL(str(library), mode=ctypes.RTLD_GLOBAL)
            _loaded = True
            return
