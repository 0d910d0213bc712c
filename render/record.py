"""Recording what is on screen: MP4 (H.264 through imageio's bundled ffmpeg, no system ffmpeg
needed) or GIF (by the file's suffix), one video frame per drawn frame at a steady rate. An MP4's
bitrate is capped by `quality` (medium: 8 Mbit/s at 1920x1080, scaled with the frame's area)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pygame

SUFFIXES = (".mp4", ".gif")


# H.264 rate control per quality: a constant-quality target (crf) capped at a peak bitrate for
# 1920x1080 (scaled with the frame's area). Ions are small moving dots, which no encoder
# compresses well: uncapped ("quality 7") a 1080p recording ran at ~80 Mbit/s.
QUALITY = {"low": (30, 4.0), "medium": (26, 8.0), "high": (22, 16.0)}   # crf, Mbit/s at 1080p
DEFAULT_QUALITY = "medium"


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
        self.frames = 0
        self.fps = fps
        self.quality = quality
        self._writer = None
        self._imageio = imageio
        self._suffix = suffix            # the file is made with the first frame, not before

    def _open_mp4(self, size: tuple[int, int]) -> None:
        """The H.264 writer, once the frame size is known (the cap depends on it). The encoder runs
        in ffmpeg's own process on one thread at a fast preset, so it does not starve the model."""
        crf, _ = QUALITY[self.quality]
        cap = bitrate_cap_mbit(self.quality, size)
        # sizes need not be multiples of 16: the frame is padded to even sides instead
        self._writer = self._imageio.get_writer(
            self.path, fps=self.fps, codec="libx264", quality=None, macro_block_size=2, pixelformat="yuv420p",
            ffmpeg_log_level="error",
            output_params=["-crf", str(crf), "-maxrate", f"{cap:.2f}M", "-bufsize", f"{cap:.2f}M",
                           "-preset", "veryfast", "-threads", "1"])

    def add(self, surface: pygame.Surface) -> None:
        if self._writer is None and self._suffix == ".gif":
            self._writer = self._imageio.get_writer(self.path, mode="I", duration=1000.0 / self.fps, loop=0)
        elif self._writer is None:
            self._open_mp4(surface.get_size())
        w, h = surface.get_size()       # one C copy, rows first as the encoder reads them
        frame = np.frombuffer(pygame.image.tobytes(surface, "RGB"), dtype=np.uint8).reshape(h, w, 3)
        self._writer.append_data(frame)
        self.frames += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
