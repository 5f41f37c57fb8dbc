"""Audio files: WAV and FLAC through soundfile, written atomically.

The file appears complete or not at all (encoded in memory, then temp sibling +
os.replace, via :func:`pyannow_hpc.store.atomic.atomic_bytes`); an unwritable path, a full disk
or an unsupported extension is an :class:`~pyannow_hpc.errors.OutputError`.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import OutputError

#: extension -> (soundfile format, subtype); 16-bit PCM plays everywhere
FORMATS = {".wav": ("WAV", "PCM_16"), ".flac": ("FLAC", "PCM_16")}


def write_audio(path: str | os.PathLike, samples, fs: int) -> Path:
    """Write mono (n,) or multichannel (n, channels) ``samples`` in [-1, 1] to
    ``path`` (.wav or .flac).  Values outside [-1, 1] are clipped."""
    import soundfile as sf

    from ..store.atomic import atomic_bytes

    final = Path(path)
    try:
        fmt, subtype = FORMATS[final.suffix.lower()]
    except KeyError:
        raise OutputError(f"cannot write audio {final}: unsupported extension {final.suffix!r} (use .wav or .flac)") from None
    data = np.asarray(samples, dtype=np.float32)
    if data.ndim not in (1, 2):
        raise OutputError(f"cannot write audio {final}: samples must be 1-D or (frames, channels), got shape {data.shape}")
    if not np.all(np.isfinite(data)):
        raise OutputError(f"cannot write audio {final}: samples contain NaN or infinity")
    if not (isinstance(fs, (int, np.integer)) and 1 <= fs <= 655350):
        raise OutputError(f"cannot write audio {final}: sample rate must be a positive integer (Hz), got {fs!r}")
    # encoded in memory, then written by atomic_bytes: a full disk is "no space
    # left on device while writing worm.wav", not libsndfile's "System error."
    with atomic_bytes(final, what="audio") as buf:
        sf.write(buf, np.clip(data, -1.0, 1.0), int(fs), format=fmt, subtype=subtype)
    return final


__all__ = ["FORMATS", "write_audio"]
