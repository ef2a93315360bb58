"""Many posters of one template in a pool of processes, in order, with progress.

Each worker process decodes the artwork and draws the batch's common captions once (its
initializer), then per poster only copies that base, draws the code and the captions
that vary, and encodes. Posters come back in the order asked, so a zip is deterministic.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ._artwork import decode_rgb
from ._layout import PosterLayout
from ._poster import CodeLook, PosterArt, render_poster

__all__ = ["BatchSpec", "PosterJob", "render_batch"]

#: Below this many posters a pool costs more than it saves.
_POOL_FROM = 8


@dataclass(frozen=True, slots=True)
class PosterJob:
    url: str
    values: Mapping[str, str]
    look: int = -1  # index into BatchSpec.looks; -1: the layout's own colours


@dataclass(frozen=True, slots=True)
class BatchSpec:
    """What every poster of a batch shares (picklable: sent once to each worker)."""

    artwork: bytes
    layout: PosterLayout
    font_path: Path | None
    min_module_px: int
    static: Mapping[str, str]
    fmt: str
    #: The saved code styles of the batch (a group's, the account's), sent once.
    looks: tuple[CodeLook, ...] = ()


def _look(spec: BatchSpec, job: PosterJob) -> CodeLook | None:
    return spec.looks[job.look] if job.look >= 0 else None


_worker_art: PosterArt | None = None
_worker_spec: BatchSpec | None = None


def _art(spec: BatchSpec) -> PosterArt:
    return PosterArt(
        decode_rgb(spec.artwork),
        spec.layout,
        spec.font_path,
        spec.min_module_px,
        dict(spec.static),
    )


def _init(spec: BatchSpec) -> None:
    global _worker_art, _worker_spec
    _worker_art = _art(spec)
    _ = _worker_art.base  # drawn once per worker, before the first poster
    _worker_spec = spec


def _one(job: PosterJob) -> bytes:
    assert _worker_art is not None
    assert _worker_spec is not None
    look = _look(_worker_spec, job)
    return render_poster(_worker_art, job.url, job.values, _worker_spec.fmt, look)


def render_batch(
    spec: BatchSpec,
    jobs: Sequence[PosterJob],
    *,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[bytes]:
    """The posters of ``jobs`` in order; ``progress(done, total)`` after each."""
    total = len(jobs)
    if workers <= 1 or total < _POOL_FROM:
        art = _art(spec)
        for done, job in enumerate(jobs, start=1):
            yield render_poster(art, job.url, job.values, spec.fmt, _look(spec, job))
            if progress is not None:
                progress(done, total)
        return
    # spawn: never fork a process that may hold threads (the web server, the worker).
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init, initargs=(spec,)
    ) as pool:
        for done, poster in enumerate(pool.map(_one, jobs, chunksize=4), start=1):
            yield poster
            if progress is not None:
                progress(done, total)
