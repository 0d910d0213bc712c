"""Recording what is on screen: MP4 (H.264 through imageio's bundled ffmpeg, no system ffmpeg
needed) or GIF (by the file's suffix), one video frame per drawn frame at a steady rate."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pygame

SUFFIXES = (".mp4", ".gif")


class Recorder:
    def __init__(self, path: str | Path, fps: float = 30.0):
        import imageio.v2 as imageio   # imported here: only a recording needs it
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in SUFFIXES:
            raise ValueError(f"--record {path}: the file must end in .mp4 or .gif")
        self.frames = 0
        if suffix == ".mp4":
            # sizes need not be multiples of 16: the frame is padded to even sides instead
            self._writer = imageio.get_writer(self.path, fps=fps, codec="libx264", quality=7,
                                              macro_block_size=2, ffmpeg_log_level="error")
        else:
            self._writer = imageio.get_writer(self.path, mode="I", duration=1000.0 / fps, loop=0)

    def add(self, surface: pygame.Surface) -> None:
        frame = np.ascontiguousarray(pygame.surfarray.array3d(surface).swapaxes(0, 1))
        self._writer.append_data(frame)
        self.frames += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
