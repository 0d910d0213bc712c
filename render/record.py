"""Recording what is on screen: MP4 (H.264 through imageio's bundled ffmpeg, no system ffmpeg
needed) or GIF (by the file's suffix), one video frame per drawn frame at a steady rate. An MP4's
bitrate is capped by `quality` (medium: 8 Mbit/s at 1920x1080, scaled with the frame's area).

A recording is written under a temporary name beside its file and renamed into place when it is
closed, so the file is whole (an MP4's index, the moov atom, is written last) or absent, and a
link at the path is replaced, never followed. Handing a frame to the encoder and closing hold off
the stop signals (SIGINT, SIGTERM, SIGHUP, ...) until they are done (the signal is delivered right after): raised inside
imageio-ffmpeg's writer, one makes it kill ffmpeg before the index is written."""
from __future__ import annotations

import contextlib
import errno
import os
import signal
import tempfile
from pathlib import Path

import numpy as np
import pygame

from simulation.system import STOP_SIGNALS, replacing

SUFFIXES = (".mp4", ".gif")


# H.264 rate control per quality: a constant-quality target (crf) capped at a peak bitrate for
# 1920x1080 (scaled with the frame's area). Ions are small moving dots, which no encoder
# compresses well: uncapped ("quality 7") a 1080p recording ran at ~80 Mbit/s.
QUALITY = {"low": (30, 4.0), "medium": (26, 8.0), "high": (22, 16.0)}   # crf, Mbit/s at 1080p
DEFAULT_QUALITY = "medium"


# the largest frames each format takes: H.264's largest level (6.2) holds 8192x4320 (ffmpeg
# refused 16384x16384, after 2.85 GB of frames had gone to it); a GIF is kept to 4K (every frame
# is held and quantised in memory)
MAX_FRAME = {".mp4": (8192, 4320), ".gif": (3840, 2160)}    # either way round, and no more pixels
MAX_FPS = 120


class RecordingError(ValueError):
    """A recording that cannot be made as asked (one line, exit 2)."""


def larger_than(size: tuple[int, int], most: tuple[int, int]) -> bool:
    """Whether a frame of `size` is larger than `most` allows, either way round or in pixels."""
    (w, h), (side, other) = size, most
    return max(w, h) > side or w * h > side * other


def size_problem(path: str | Path, size: tuple[int, int]) -> str | None:
    """Why frames of `size` cannot be recorded into `path`'s format, or None."""
    suffix = Path(path).suffix.lower()
    w, h = size
    if suffix in MAX_FRAME:
        side, other = MAX_FRAME[suffix]
        if larger_than(size, MAX_FRAME[suffix]):
            return (f"--record {path}: frames of {w}x{h} are larger than {suffix[1:].upper()} takes (at most "
                    f"{side}x{other})")
    return None


def bitrate_cap_mbit(quality: str, size: tuple[int, int]) -> float:
    """The peak bitrate (Mbit/s) of a recording of `size` at `quality`."""
    return QUALITY[quality][1] * size[0] * size[1] / (1920 * 1080)


class Recorder:
    def __init__(self, path: str | Path, fps: float = 30.0, quality: str = DEFAULT_QUALITY):
        import imageio.v2 as imageio   # imported here: only a recording needs it
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in SUFFIXES:
            raise ValueError(f"--record {path}: the file must end in .mp4 or .gif")
        if quality not in QUALITY:
            raise ValueError(f"--quality {quality}: allowed: {', '.join(QUALITY)}")
        if not 1 <= fps <= MAX_FPS:
            raise RecordingError(f"--fps {fps:g}: from 1 to {MAX_FPS} frames per second")
        self.frames = 0
        self.fps = fps
        self.quality = quality
        self._writer = None
        self._imageio = imageio
        self._suffix = suffix            # the file is made with the first frame, not before
        self._part: contextlib.ExitStack | None = None    # holds the temporary file it is written under

    def _open_mp4(self, size: tuple[int, int]) -> None:
        """The H.264 writer, once the frame size is known (the cap depends on it). The encoder runs
        in ffmpeg's own process on one thread at a fast preset, so it does not starve the model."""
        crf, _ = QUALITY[self.quality]
        cap = bitrate_cap_mbit(self.quality, size)
        # sizes need not be multiples of 16: the frame is padded to even sides instead
        self._writer = self._imageio.get_writer(
            self._new_part(), fps=self.fps, codec="libx264", quality=None, macro_block_size=2, pixelformat="yuv420p",
            ffmpeg_log_level="quiet",      # its errors would print over our one line; `_reason` finds why
            output_params=["-crf", str(crf), "-maxrate", f"{cap:.2f}M", "-bufsize", f"{cap:.2f}M",
                           "-preset", "veryfast", "-threads", "1"])

    def _new_part(self) -> str:
        """The temporary file the encoder writes; `close` renames it into place (or removes it)."""
        self._part = contextlib.ExitStack()
        return str(self._part.enter_context(replacing(self.path)))

    def add(self, surface: pygame.Surface) -> None:
        problem = size_problem(self.path, surface.get_size()) if self._writer is None else None
        if problem:                     # a full screen's size, known at the first frame
            raise RecordingError(problem)
        w, h = surface.get_size()       # one C copy, rows first as the encoder reads them
        frame = np.frombuffer(pygame.image.tobytes(surface, "RGB"), dtype=np.uint8).reshape(h, w, 3)
        # a stop signal raised inside imageio-ffmpeg's writer makes it kill ffmpeg (no index
        # written: seen under load), so it is held while a frame is handed over, and raised after
        with _signals_held():
            if self._writer is None and self._suffix == ".gif":
                self._writer = self._imageio.get_writer(self._new_part(), mode="I", duration=1000.0 / self.fps,
                                                        loop=0)
            elif self._writer is None:
                self._open_mp4(surface.get_size())
            try:
                self._writer.append_data(frame)
            except (OSError, RuntimeError) as e:     # ffmpeg could not write (a full disk) and died
                self._fail(e)
        self.frames += 1

    def _fail(self, e: BaseException) -> None:
        """The encoder cannot go on: its file is removed (unfinished, it would not play) and the
        reason raised as one line."""
        writer, self._writer = self._writer, None
        part, self._part = self._part, None
        with contextlib.suppress(Exception):
            writer.close()
        failed = self._cannot_write(writer, e)       # while the unfinished file still fills the disk
        with contextlib.suppress(Exception):
            if part is not None:
                part.__exit__(type(e), e, None)      # removes the temporary file
        raise failed from None

    def _cannot_write(self, writer, e: BaseException) -> RecordingError:
        """The one line for an encoder that could not write; its writer is not closed again."""
        _forget(writer)
        return RecordingError(f"--record {self.path}: cannot write it ({self._reason(e)}) after {self.frames} "
                              f"frames; an unfinished video does not play, so nothing is kept")

    def _reason(self, e: BaseException) -> str:
        """Why the encoder could not write, in words: the error's own, else what writing 64 kB
        beside the file says (ffmpeg dies with a broken pipe), else the encoder's message."""
        if getattr(e, "strerror", None) and getattr(e, "errno", None) != errno.EPIPE:
            return e.strerror
        try:
            with tempfile.TemporaryFile(dir=self.path.parent) as f:
                f.write(bytes(64 << 10))
                f.flush()
                os.fsync(f.fileno())
        except OSError as probe:
            return probe.strerror or str(probe)
        return _ffmpeg_reason(str(e))

    def close(self) -> None:
        """Finish the file (the encoder writes its index) and rename it into place; a stop signal
        that comes meanwhile is held and delivered when the file is whole."""
        if self._writer is None:
            return
        with _signals_held():
            writer, self._writer = self._writer, None
            part, self._part = self._part, None
            with part:                  # renamed into place when whole; removed if the encoder failed
                try:
                    writer.close()
                except (OSError, RuntimeError) as e:     # the last frames or the index did not fit
                    raise self._cannot_write(writer, e) from None


def _forget(writer) -> None:
    """A writer whose close failed is not closed again when it is collected (imageio's GIF writer
    would retry the whole save from its __del__ and print the failure twice more)."""
    instance = getattr(writer, "instance", None)
    for forget in (lambda: setattr(writer, "closed", True), lambda: instance.images_to_write.clear(),
                   lambda: instance._request._file.close(),       # its buffered bytes cannot be written
                   lambda: setattr(instance, "close", lambda: None)):
        with contextlib.suppress(Exception):
            forget()


def _ffmpeg_reason(text: str) -> str:
    """The line of an encoder's message that says why ("No space left on device"), else its first."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in lines:
        for known in ("No space left on device", "Disk quota exceeded", "File too large", "Read-only file system",
                      "Permission denied", "Broken pipe"):
            if known in ln:
                return known
    return lines[0][:120] if lines else "the encoder stopped"


class _signals_held:
    """Stop signals only noted inside the block, the first sent again after it (main thread;
    elsewhere, and for a handler Python did not install, nothing is changed)."""

    def __enter__(self):
        self.pending, self.old = [], {}
        try:
            for s in STOP_SIGNALS:
                if signal.getsignal(s) is not None:
                    self.old[s] = signal.signal(s, lambda n, _f: self.pending.append(n))
        except ValueError:          # not the main thread
            pass
        return self

    def __exit__(self, *exc):
        for s, h in self.old.items():
            signal.signal(s, h)
        if self.pending:
            os.kill(os.getpid(), self.pending[0])
        return False
