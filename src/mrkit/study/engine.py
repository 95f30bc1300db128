"""Where a study's pairs run: in-process (``local``) or on a Dask cluster (``dask``).

An engine maps a pure pair function over keyword-argument dicts and returns the
results in task order. ``kind = "dask"`` starts a ``distributed.LocalCluster``
(one single-threaded worker process per core, or ``workers``) on loopback, or
connects to a running scheduler at ``address`` (for SLURM/PBS, start one with
dask-jobqueue and pass its address; see ``docs/engine.md``). Dask retries a task
whose worker died, so a lost worker does not lose the study.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol


class Engine(Protocol):
    """Maps ``func(**task)`` over tasks; results in task order."""

    def map(
        self,
        func: Callable[..., Any],
        tasks: Sequence[dict[str, Any]],
        *,
        on_done: Callable[[], None] | None = None,
        on_result: Callable[[int, Any], None] | None = None,
    ) -> list[Any]:
        """Run every task; ``on_done()`` / ``on_result(index, result)`` as each finishes."""
        ...


class LocalEngine:
    """Runs tasks one after another in this process."""

    kind = "local"
    slots = 1

    def map(self, func, tasks, *, on_done=None, on_result=None):
        out = []
        for i, task in enumerate(tasks):
            out.append(func(**task))
            if on_done is not None:
                on_done()
            if on_result is not None:
                on_result(i, out[-1])
        return out


class DaskEngine:
    """Runs tasks on a Dask ``distributed`` cluster.

    Parameters
    ----------
    workers
        Worker processes of the ``LocalCluster`` (default: number of cores).
    address
        Scheduler address of a running cluster (``tcp://host:8786``); no local
        cluster is started then.
    retries
        Times a task is re-run when its worker dies.
    """

    kind = "dask"

    def __init__(
        self, *, workers: int | None = None, address: str | None = None, retries: int = 2
    ) -> None:
        self.workers = workers
        self.address = address
        self.retries = retries

    @property
    def slots(self) -> int:
        """Tasks that run at once (for sizing chunks): ``workers`` or the cores."""
        import os

        return self.workers or os.cpu_count() or 1

    def map(self, func, tasks, *, on_done=None, on_result=None):
        from distributed import Client, LocalCluster, as_completed

        cluster = None
        if self.address is None:
            import os

            n = self.workers or os.cpu_count() or 1
            cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
            client = Client(cluster)
        else:
            client = Client(self.address)
        try:
            futures = [
                client.submit(func, pure=False, retries=self.retries, **task) for task in tasks
            ]
            index = {f.key: i for i, f in enumerate(futures)}
            out: list[Any] = [None] * len(futures)
            for fut in as_completed(futures):
                i = index[fut.key]
                out[i] = fut.result()
                if on_done is not None:
                    on_done()
                if on_result is not None:
                    on_result(i, out[i])
            return out
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


def make_engine(cfg: Any) -> Engine:
    """Build the engine of a study's ``[engine]`` section (or ``None`` for local)."""
    if cfg is None or cfg.kind == "local":
        return LocalEngine()
    return DaskEngine(workers=cfg.workers, address=cfg.address)
