"""The training system: self-play workers -> replay -> learner -> new weights, and an arena.

Each part is a plain class: :class:`SelfPlayWorker`, :class:`ReplayStore`,
:class:`LearnerService` and :class:`agents.alphazero.arena.Arena`. :class:`SelfPlaySystem`
holds them behind handles with Ray's call syntax (``handle.method.remote(...)``): Ray actors
when ``workers > 0``, or :class:`LocalHandle` wrappers that call straight through in this
process, so both modes run the same driver code. In one process the arena runs on a thread of
its own (:class:`BackgroundHandle`, ``arena.background``), as it runs beside the driver on Ray.

Games are identified by ``GameId(worker, sequence)``. A worker ships each game to the replay
the moment it ends, numbering it from the replay's ``next_sequence(worker)``; the replay keeps
a game id once and refuses it again. A worker that dies mid-request (Ray restarts it, up to
``max_restarts`` times, on any node with a free CPU) loses only its unfinished games: the
finished ones are already in the replay, and the restarted worker numbers on from there.

Deaths are counted by incarnation: each start of a worker process ``join``s the replay, which
numbers the starts, so the driver counts every death once however many of a dead worker's
requests fail (the request in flight fails with ``ActorUnavailableError``, and so may one sent
just after). A failed request is followed by a probe (``where``), which waits while Ray restarts
the actor and answers with the new incarnation; a probe failing with ``ActorDiedError`` means
Ray has given up on the actor (``max_restarts`` used or no restart possible): its last death is
counted and the worker retired. The replay, learner and arena stay on the driver's node: they
fall only with it, which a resume from the last checkpoint covers.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future
from typing import Any, NamedTuple

import numpy as np
import torch

from agents.alphazero.arena import Arena, ArenaReport
from agents.alphazero.config import AlphaZeroConfig
from agents.alphazero.evaluators import NeuralEvaluator
from agents.alphazero.games import make_game
from agents.alphazero.learner import Batch, Learner, ReplayWindow
from agents.alphazero.network import net_for, torch_device
from agents.alphazero.selfplay import GameRecord, outcome_stats, play_games

Weights = dict[str, np.ndarray]


class GameId(NamedTuple):
    worker: int
    sequence: int


class Played(NamedTuple):
    """What a self-play request returns."""

    incarnation: int  # the worker's restarts so far (0: its first process)
    games: int  # games shipped to the replay


class Whereabouts(NamedTuple):
    """Where a self-play worker runs."""

    node: str | None  # the Ray node id (None off Ray)
    pid: int  # its process id
    incarnation: int  # its restarts so far


def weights_of(net: torch.nn.Module) -> Weights:
    return {k: v.detach().cpu().numpy().copy() for k, v in net.state_dict().items()}


def load_weights(net: torch.nn.Module, weights: Mapping[str, np.ndarray]) -> None:
    net.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})


# ----------------------------------------------------------------------------- local calls


class Done:
    """The result of a call already made in this process (stands in for a Ray ObjectRef)."""

    def __init__(self, value: Any) -> None:
        self.value = value


class _LocalMethod:
    def __init__(self, method: Any) -> None:
        self.method = method

    def remote(self, *args: Any, **kwargs: Any) -> Done:
        args = tuple(a.value if isinstance(a, Done) else a for a in args)
        return Done(self.method(*args, **kwargs))


class LocalHandle:
    """An object whose methods are called as ``handle.method.remote(...)``, like a Ray actor."""

    def __init__(self, target: Any) -> None:
        self.target = target

    def __getattr__(self, name: str) -> _LocalMethod:
        return _LocalMethod(getattr(self.target, name))


class BackgroundHandle:
    """Like :class:`LocalHandle`, but every call runs on one daemon thread of this process,
    in the order the calls were made, and answers with a ``concurrent.futures.Future``.

    The arena's rounds in one-process runs: a round goes on beside self-play and training, and
    the engine it plays (GNU Go, a process of its own) thinks on another core instead of
    holding the run up. Calls made after a round wait for it (``state_dict`` sees the round's
    end, as with a Ray actor). A daemon thread, so Ctrl-C does not wait for a round to end;
    started by the first call, so an agent that only plays starts none.
    """

    def __init__(self, target: Any, name: str = "background") -> None:
        self.target, self.name = target, name
        self._calls: queue.SimpleQueue[tuple[Future[Any], Any, tuple[Any, ...]]] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None

    def _call(self, method: Any, args: tuple[Any, ...]) -> Future[Any]:
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
            self._thread.start()
        future: Future[Any] = Future()
        self._calls.put((future, method, args))
        return future

    def _serve(self) -> None:
        while True:
            future, method, args = self._calls.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(method(*args))
                except BaseException as exc:  # handed to whoever fetches the result
                    future.set_exception(exc)

    def __getattr__(self, name: str) -> _BackgroundMethod:
        return _BackgroundMethod(self, getattr(self.target, name))


class _BackgroundMethod:
    def __init__(self, handle: BackgroundHandle, method: Any) -> None:
        self.handle, self.method = handle, method

    def remote(self, *args: Any) -> Future[Any]:
        return self.handle._call(self.method, args)


def fetch(ref: Any) -> Any:
    """The value of a call's result: local (:class:`Done`), background (a ``Future``) or a
    Ray ObjectRef."""
    if isinstance(ref, Done):
        return ref.value
    if isinstance(ref, Future):
        return ref.result()
    import ray

    return ray.get(ref)


def finished(ref: Any) -> bool:
    """Whether a local or background call's result is ready (without waiting)."""
    return not isinstance(ref, Future) or ref.done()


# ----------------------------------------------------------------------------- the parts


_DROPPED = ("planes", "policies")  # the parts of a record the window holds; not kept twice


class ReplayStore:
    """The replay window plus game bookkeeping: ids seen, per-worker sequence numbers, the
    records (planes dropped) not yet taken for logging, and how often each worker started."""

    def __init__(self, config: AlphaZeroConfig) -> None:
        self.config = config
        self.window = ReplayWindow(make_game(config.game), config.learner.replay_window)
        self.seen: set[GameId] = set()
        self.games = self.positions = self.duplicates = 0
        self.untaken: list[GameRecord] = []
        self.starts: dict[int, int] = {}  # worker -> processes started (not saved: per system)
        self.closed = False

    def join(self, worker: int) -> int:
        """Note that a process of ``worker`` started; returns its incarnation (0 the first
        time, ``k`` after its ``k``-th restart)."""
        self.starts[worker] = self.starts.get(worker, 0) + 1
        return self.starts[worker] - 1

    def restarts(self, worker: int) -> int:
        """How often ``worker`` was restarted (its latest incarnation)."""
        return max(self.starts.get(worker, 0) - 1, 0)

    def next_sequence(self, worker: int) -> int:
        return 1 + max((g.sequence for g in self.seen if g.worker == worker), default=-1)

    def add(self, game_id: GameId, record: GameRecord) -> bool:
        """Keep a finished game unless its id was seen or the store is closed; returns whether
        it was kept."""
        game_id = GameId(*game_id)
        if self.closed:
            return False
        if game_id in self.seen:
            self.duplicates += 1
            return False
        self.seen.add(game_id)
        self.window.add_games([record], self.config.learner.value_q_weight)
        self.games += 1
        self.positions += len(record.moves)
        dropped: dict[str, Any] = dict.fromkeys(_DROPPED, np.empty(0, np.float32))
        self.untaken.append(record._replace(**dropped))
        return True

    def close(self) -> None:
        """Keep no game from now on: what :meth:`take` then gives is every game kept."""
        self.closed = True

    def take(self) -> list[GameRecord]:
        """The records added since the last call (without planes and policies)."""
        taken, self.untaken = self.untaken, []
        return taken

    def counts(self) -> dict[str, int]:
        return {"games": self.games, "positions": self.positions, "window": len(self.window),
                "duplicates": self.duplicates}  # fmt: skip

    def game_ids(self) -> list[GameId]:
        return sorted(self.seen)

    def sample(self, batches: int, seed: int) -> list[Batch]:
        rng, cfg = np.random.default_rng(seed), self.config.learner
        return [self.window.sample(cfg.batch_size, rng, cfg.augment) for _ in range(batches)]

    def state_dict(self) -> dict[str, Any]:
        """Window, game ids (as ``(worker, sequence)`` tuples), counters and the untaken
        records (as dicts, without their empty planes and policies): plain data, which loads
        with ``weights_only``."""
        untaken = [{k: v for k, v in r._asdict().items() if k not in _DROPPED}
                   for r in self.untaken]  # fmt: skip
        return {"window": self.window.state_dict(), "seen": [tuple(g) for g in sorted(self.seen)],
                "games": self.games, "positions": self.positions, "duplicates": self.duplicates,
                "untaken": untaken}  # fmt: skip

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.window.load_state_dict(state["window"])
        self.seen = {GameId(*g) for g in state["seen"]}
        self.games, self.positions = int(state["games"]), int(state["positions"])
        self.duplicates = int(state["duplicates"])
        empty: dict[str, Any] = dict.fromkeys(_DROPPED, np.empty(0, np.float32))
        self.untaken = [GameRecord(**empty, **{**r, "returns": tuple(r["returns"])})
                        for r in state["untaken"]]  # fmt: skip
        self.closed = False


class LearnerService:
    """The network being trained, its optimizer, and a weights version bumped per update."""

    def __init__(self, config: AlphaZeroConfig, seed: int = 0) -> None:
        self.net = net_for(config, seed).to(torch_device(config))
        self.learner = Learner(self.net, config.learner)
        self.version = 0

    def weights(self, have: int = -1) -> tuple[int, Weights | None]:
        """The current version, and its weights unless the caller ``have``s them already."""
        return self.version, (None if have == self.version else weights_of(self.net))

    def train(self, batches: list[Batch]) -> dict[str, float]:
        losses = self.learner.train_on(batches)
        self.version += 1
        return losses

    def state_dict(self) -> dict[str, Any]:
        return {"net": self.net.state_dict(), "optimizer": self.learner.optimizer.state_dict(),
                "steps": self.learner.steps, "version": self.version}  # fmt: skip

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.net.load_state_dict(state["net"])
        self.learner.optimizer.load_state_dict(state["optimizer"])
        self.learner.steps, self.version = int(state["steps"]), int(state["version"])


class SelfPlayWorker:
    """Plays self-play games with the learner's newest weights; ships each finished game to
    the replay as ``GameId(worker, sequence)``. Game ``k`` of a request that starts at
    sequence ``s`` draws from ``default_rng([seed, worker, s])``, so a request is reproducible.
    Each process of a worker (Ray restarts it after a death) first ``join``s the replay."""

    def __init__(
        self, worker: int, config: AlphaZeroConfig, seed: int, replay: Any, learner: Any
    ) -> None:
        self.worker, self.config, self.seed = worker, config, seed
        self.replay, self.learner = replay, learner
        self.incarnation = fetch(replay.join.remote(worker))
        self.game = make_game(config.game)
        device = torch_device(config)
        self.net = net_for(config).to(device)
        mcts = config.mcts
        self.evaluator = NeuralEvaluator(self.game, self.net, score_utility=mcts.score_utility,
                                         score_scale=mcts.score_scale)  # fmt: skip
        self.version = -1

    def where(self) -> Whereabouts:
        """Where this worker runs, and its incarnation."""
        import ray

        node = ray.get_runtime_context().get_node_id() if ray.is_initialized() else None
        return Whereabouts(node, os.getpid(), self.incarnation)

    def play(self, games: int) -> Played:
        """Play ``games`` games and ship each as it ends."""
        version, weights = fetch(self.learner.weights.remote(self.version))
        if weights is not None:
            load_weights(self.net, weights)
            self.version = version
        first = fetch(self.replay.next_sequence.remote(self.worker))
        sequence = first

        def ship(record: GameRecord) -> None:
            nonlocal sequence
            fetch(self.replay.add.remote(GameId(self.worker, sequence), record))
            sequence += 1

        rng = np.random.default_rng([self.seed, self.worker, first])
        cfg = self.config
        play_games(self.game, self.evaluator, games, cfg.mcts, cfg.selfplay, rng, on_record=ship)
        return Played(self.incarnation, sequence - first)


# ----------------------------------------------------------------------------- the system


class RoundReport(NamedTuple):
    records: list[GameRecord]  # games finished since the last round
    metrics: dict[str, float]  # scalars to log
    arena: list[ArenaReport]  # arena rounds finished since the last round


class SelfPlaySystem:
    """Workers, replay, learner and arena behind handles, and the driver's bookkeeping.

    :meth:`round` keeps every live worker busy with a request of ``games_per_call`` games,
    takes the games finished since the last round, trains once ``games_per_iteration`` new
    games (and ``min_replay`` positions) are in, and starts an arena round every ``arena.every``
    training iterations (or, when the last round is still playing then, as soon as it ends).
    With Ray, requests and arena rounds run concurrently with the driver (in one process the
    arena has a thread of its own); a worker whose request failed gets requests again once it
    is back, and ``worker_deaths`` counts each death of a worker process once.
    """

    def __init__(self, config: AlphaZeroConfig, seed: int = 0, workers: int | None = None):
        self.config, self.seed = config, seed
        self.workers = config.distributed.workers if workers is None else workers
        self.rng = np.random.default_rng([seed, 1])
        self.iterations = self.games_at_last_update = self.worker_deaths = 0
        self._pending: dict[Any, tuple[int, str]] = {}  # ref -> (worker, "play" or "probe")
        self._arena_pending: list[Any] = []
        self._arena_due = False  # a round is due and waits for the last one to end
        self._deaths = [0] * max(self.workers, 1)  # per worker (its incarnation while it lives)
        self._retired: set[int] = set()  # workers Ray gave up restarting
        self._clock = time.perf_counter()
        if self.workers == 0:
            self.replay: Any = LocalHandle(ReplayStore(config))
            self.learner: Any = LocalHandle(LearnerService(config, seed))
            arena = Arena(config, seed)
            background = config.arena.background
            self.arena: Any = BackgroundHandle(arena, "arena") if background else LocalHandle(arena)
            self.actors: list[Any] = [
                LocalHandle(SelfPlayWorker(0, config, seed, self.replay, self.learner))
            ]
        else:
            self._start_actors()

    def _start_actors(self) -> None:
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        if not ray.is_initialized():
            raise RuntimeError(
                "no Ray cluster: call ray.init() (or ray.init(address='auto')) first"
            )
        cfg, seed = self.config, self.seed
        # On the driver's node: a worker node that leaves must not take the replay with it.
        here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
        # (ray's stubs list placement groups only, but its actors take a node affinity too)
        service = ray.remote(num_cpus=0, scheduling_strategy=here)  # type: ignore[call-overload]
        self.replay = service(ReplayStore).remote(cfg)
        self.learner = service(LearnerService).remote(cfg, seed)
        self.arena = service(Arena).remote(cfg, seed)
        worker = ray.remote(num_cpus=1, max_restarts=cfg.distributed.max_restarts)(SelfPlayWorker)
        self.actors = [worker.remote(w, cfg, seed, self.replay, self.learner)
                       for w in range(self.workers)]  # fmt: skip

    # ------------------------------------------------------------------ driving

    def round(self, timeout: float = 1.0) -> RoundReport:
        """Keep the workers busy, wait up to ``timeout`` seconds for a request to end, train
        and start an arena round as due; returns the new games, scalars and arena reports."""
        self._request()
        self._collect(timeout)
        records = fetch(self.replay.take.remote())
        metrics: dict[str, float] = {}
        now = time.perf_counter()
        if records:
            metrics |= {f"selfplay/{k}": v for k, v in outcome_stats(records).items()}
            metrics["selfplay/games_per_second"] = len(records) / max(now - self._clock, 1e-9)
            self._clock = now
        metrics |= self._maybe_train()
        metrics["selfplay/worker_deaths"] = float(self.worker_deaths)
        metrics["selfplay/workers_retired"] = float(len(self._retired))
        return RoundReport(records, metrics, self._arena_results() + self._start_due_arena())

    def _start_due_arena(self) -> list[ArenaReport]:
        """Start the arena round that is due, with the newest weights, unless one is still
        playing (then it starts once that one ends: rounds never queue up behind a slow one);
        returns the rounds that have ended meanwhile (a held-back round at once)."""
        if not self._arena_due or self._arena_pending:
            return []
        version, weights = fetch(self.learner.weights.remote())
        self._arena_pending.append(self.arena.evaluate.remote(version, weights))
        self._arena_due = False
        return self._arena_results()

    def stop(self) -> RoundReport:
        """End self-play: the replay keeps no game from now on, and the games it kept that no
        round has taken yet come back, so that every game in the replay is counted once."""
        if self.workers:
            fetch(self.replay.close.remote())
        return RoundReport(fetch(self.replay.take.remote()), {}, [])

    def _request(self) -> None:
        busy = {index for index, _ in self._pending.values()} | self._retired
        for index, actor in enumerate(self.actors):
            if index not in busy:
                ref = actor.play.remote(self.config.distributed.games_per_call)
                self._pending[ref] = (index, "play")

    def _collect(self, timeout: float) -> None:
        """Take the results of the requests and probes that have ended (waiting up to
        ``timeout`` seconds for one). A failed request is followed by a probe, which Ray
        answers once the worker is back: the deaths up to its incarnation are counted then.
        A probe that fails with ``ActorDiedError``: Ray will not restart it, it is retired."""
        refs = list(self._pending)
        if self.workers == 0:
            done = refs
        else:
            import ray

            done, _ = ray.wait(refs, num_returns=1, timeout=timeout)
            if done:  # and every other one that has ended by now
                done, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
        for ref in done:
            index, kind = self._pending.pop(ref)
            try:
                answer = fetch(ref)  # Played or Whereabouts: both carry the incarnation
            except Exception as exc:
                if not _actor_died(exc):
                    raise
                if kind == "probe" and _actor_gone(exc):
                    self._retired.add(index)
                    self._count_deaths(index, fetch(self.replay.restarts.remote(index)) + 1)
                else:  # the request's finished games are in the replay already
                    self._pending[self.actors[index].where.remote()] = (index, "probe")
            else:
                self._count_deaths(index, answer.incarnation)
        if len(self._retired) == len(self.actors):
            raise RuntimeError(
                f"every self-play actor died more than {self.config.distributed.max_restarts} "
                "times (distributed.max_restarts)"
            )

    def _count_deaths(self, index: int, deaths: int) -> None:
        """Worker ``index`` has died ``deaths`` times: count those not counted yet."""
        if deaths > self._deaths[index]:
            self.worker_deaths += deaths - self._deaths[index]
            self._deaths[index] = deaths

    def deaths(self) -> list[int]:
        """Deaths counted per worker (of this system's actors, since they started)."""
        return list(self._deaths)

    def _maybe_train(self) -> dict[str, float]:
        cfg = self.config.learner
        counts = fetch(self.replay.counts.remote())
        new_games = counts["games"] - self.games_at_last_update
        if new_games < cfg.games_per_iteration or counts["window"] < cfg.min_replay:
            return {}
        seed = int(self.rng.integers(2**63))
        batches = self.replay.sample.remote(cfg.steps_per_iteration, seed)
        losses = fetch(self.learner.train.remote(batches))
        self.games_at_last_update = counts["games"]
        self.iterations += 1
        every = self.config.arena.every
        self._arena_due |= bool(every) and self.iterations % every == 0
        return {f"train/{k}": v for k, v in losses.items()} | {
            "train/iterations": float(self.iterations),
            "replay/positions": counts["window"],
        }

    def _arena_results(self) -> list[ArenaReport]:
        if self.workers == 0 or not self._arena_pending:
            done = [r for r in self._arena_pending if finished(r)]
        else:
            import ray

            done, _ = ray.wait(self._arena_pending, num_returns=len(self._arena_pending),
                               timeout=0)  # fmt: skip
        self._arena_pending = [r for r in self._arena_pending if r not in done]
        return [fetch(r) for r in done]

    def finish_arena(self) -> list[ArenaReport]:
        """Wait for arena rounds still running."""
        reports = [fetch(r) for r in self._arena_pending]
        self._arena_pending = []
        return reports

    # ------------------------------------------------------------------ state

    def state_dict(self) -> dict[str, Any]:
        """Learner, replay, arena and driver state; requests in flight are not part of it."""
        learner, replay, arena = (fetch(h.state_dict.remote())
                                  for h in (self.learner, self.replay, self.arena))  # fmt: skip
        return {"learner": learner, "replay": replay, "arena": arena,
                "rng": self.rng.bit_generator.state, "iterations": self.iterations,
                "games_at_last_update": self.games_at_last_update,
                "worker_deaths": self.worker_deaths}  # fmt: skip

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        fetch(self.learner.load_state_dict.remote(state["learner"]))
        fetch(self.replay.load_state_dict.remote(state["replay"]))
        fetch(self.arena.load_state_dict.remote(state["arena"]))
        self.rng.bit_generator.state = state["rng"]
        self.iterations = int(state["iterations"])
        self.games_at_last_update = int(state["games_at_last_update"])
        self.worker_deaths = int(state["worker_deaths"])

    def shutdown(self) -> None:
        """Stop the actors (the local parts just release GNU Go)."""
        fetch(self.arena.close.remote())
        if self.workers == 0:
            return
        import ray

        for handle in (*self.actors, self.replay, self.learner, self.arena):
            ray.kill(handle)
        self._pending.clear()
        self._arena_pending = []


def _actor_died(exc: Exception) -> bool:
    """A Ray actor's process died (or is unreachable) before it answered."""
    from ray.exceptions import RayActorError

    return isinstance(exc, RayActorError)


def _actor_gone(exc: Exception) -> bool:
    """Ray will not restart the actor (``ActorUnavailableError``: it will, or it is only
    unreachable for a moment)."""
    from ray.exceptions import ActorDiedError

    return isinstance(exc, ActorDiedError)
