"""``voxcore train``: the diffusion-loss training loop, on HF Accelerate.

It runs unchanged in one process or under ``accelerate launch`` (DDP on several GPUs or CPU
processes; DeepSpeed / FSDP through accelerate's own config). Every random draw of a step (which
examples, which items lose their condition, the diffusion noise and timesteps) comes from a
generator seeded by ``(seed, step, micro-batch, process)``, so a run resumed from a checkpoint
continues the exact loss curve of an uninterrupted one.
"""

from __future__ import annotations

import csv
import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from voxcore.assembly import build_model
from voxcore.errors import UserError
from voxcore.images import image_grid, save_image
from voxcore.interfaces import SpeechFeatures, SupportsGradientCheckpointing
from voxcore.io import load_tensors
from voxcore.model import VoxModel
from voxcore.preparation import PreparedArtifact, keep_prepared, prepare_recipe
from voxcore.recipe import ResolvedRecipe
from voxcore.runs import RESUMABLE_CHANGES, RunDir, cache_root, recipe_changes
from voxcore.runs.checkpoint import (
    Checkpoint,
    load_optimizer,
    read_state,
    save_checkpoint,
)
from voxcore.training.data import Batch, Examples, load_examples
from voxcore.training.ema import EMA

log = logging.getLogger(__name__)

#: Recipe keys that may change when a run is resumed (everything else must match).
VALIDATION_IMAGES = 8


@dataclass(frozen=True)
class TrainResult:
    """Where a finished run is and what it reached."""

    run_dir: Path
    step: int
    checkpoint: Checkpoint
    last_loss: float
    main_process: bool = True


def step_seed(seed: int, step: int, micro: int, process: int) -> int:
    """The seed of one micro-batch's random draws."""
    return (((seed * 1_000_003 + step) * 1009 + micro) * 101 + process) % (2**63 - 1)


def train(
    resolved: ResolvedRecipe,
    run_dir: Path,
    *,
    resume: bool = False,
    progress: bool = True,
) -> TrainResult:
    """Train the recipe's model into ``run_dir`` (continuing its newest checkpoint if asked)."""
    log_files: list[logging.Handler] = []
    try:
        return _train(resolved, run_dir, resume, progress, log_files)
    finally:  # several trainings in one process must not write into each other's logs
        for handler in log_files:
            logging.getLogger("voxcore").removeHandler(handler)
            handler.close()


def _train(
    resolved: ResolvedRecipe,
    run_dir: Path,
    resume: bool,
    progress: bool,
    log_files: list[logging.Handler],
) -> TrainResult:
    from accelerate import Accelerator
    from accelerate.utils import DistributedDataParallelKwargs

    config = resolved.recipe.train
    run = RunDir(run_dir)
    latest = run.latest()
    if latest is not None and not resume:
        raise UserError(f"{run_dir} already holds a run (newest checkpoint: step {latest.step}); "
                        "pass --resume to continue it, or choose another --run-dir")
    if latest is not None:
        _check_same_recipe(run, resolved)

    accelerator = Accelerator(
        # Several processes and no GPU: accelerate only picks CPU DDP (gloo) when told to.
        cpu=_launched_without_gpus(),
        mixed_precision=config.mixed_precision,
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],
    )
    main = accelerator.is_main_process
    if main:
        log_files.append(_attach_log_file(run))
    # The first process prepares (trains a recogniser, a judge, ...); the others reuse it.
    with accelerator.main_process_first():
        prepared = prepare_recipe(resolved)
    if main:
        keep_prepared(run.path, {section: a.folder for section, a in prepared.items()})
    torch.manual_seed(resolved.recipe.seed)
    model = build_model(resolved, prepared={s: a.folder for s, a in prepared.items()})
    if config.gradient_checkpointing:
        _enable_gradient_checkpointing(model, resolved)
    model.to(accelerator.device)

    with accelerator.main_process_first():
        examples = load_examples(model, resolved.train_data,
                                 [spec.weight for spec in resolved.recipe.data.train],
                                 resolved.encoder, cache_root(resolved),
                                 model.generator_part.resolution,
                                 resolved.recipe.data.images)
    if main:
        run.write_metadata(resolved, _records(prepared))
        log.info("training %s on %d examples into %s (%d process%s, %s, mixed precision %s)",
                 resolved.recipe.name, len(examples), run_dir, accelerator.num_processes,
                 "" if accelerator.num_processes == 1 else "es", accelerator.device,
                 config.mixed_precision)

    trainable = {name: p for name, p in model.named_parameters() if p.requires_grad}
    if not trainable:
        raise UserError("nothing to train: every parameter of the model is frozen")
    optimizer = torch.optim.AdamW(trainable.values(), lr=config.lr, betas=config.adam_betas,
                                  weight_decay=config.weight_decay)
    warmup = config.warmup_steps
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) if warmup else 1.0)
    ema = EMA(trainable, config.ema.decay) if config.ema.enabled else None

    start = 0
    if latest is not None:
        start = _restore(latest, model, optimizer, scheduler, ema)
        if main:
            log.info("resumed from %s (step %d)", latest.path, start)
    if start >= config.max_steps:
        raise UserError(f"the run already reached step {start} of train.max_steps="
                        f"{config.max_steps}; raise train.max_steps to train further")

    wrapped, optimizer = accelerator.prepare(model, optimizer)
    logger = _LossLog(run, start, enabled=main)
    bar = _progress(config.max_steps, start, enabled=main and progress)
    generator_config = resolved.recipe.generate
    began, loss_value, saved = time.perf_counter(), float("nan"), latest
    try:
        for step in range(start + 1, config.max_steps + 1):
            total = torch.zeros((), device=accelerator.device)
            for micro in range(config.grad_accum):
                draws = torch.Generator().manual_seed(
                    step_seed(resolved.recipe.seed, step, micro, accelerator.process_index))
                batch = _to_device(
                    examples.batch(examples.draw(config.batch_size, draws), draws),
                    accelerator.device)
                drop = torch.rand(config.batch_size, generator=draws) < config.cond_dropout
                syncing = micro == config.grad_accum - 1
                with (nullcontext() if syncing else accelerator.no_sync(wrapped)):
                    with accelerator.autocast():
                        loss = wrapped(batch.images, batch.features, batch.texts,
                                       drop.to(accelerator.device), draws, batch.encoded)
                    accelerator.backward(loss / config.grad_accum)
                total += loss.detach().float() / config.grad_accum
            if config.max_grad_norm is not None:
                accelerator.clip_grad_norm_(list(trainable.values()), config.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            if ema is not None:
                ema.update(trainable)
            loss_value = float(accelerator.reduce(total, reduction="mean"))
            logger.add(step, loss_value, scheduler.get_last_lr()[0], time.perf_counter() - began,
                       every=config.log_every)
            bar.update(step, loss_value)
            if step % config.checkpoint_every == 0 or step == config.max_steps:
                accelerator.wait_for_everyone()
                if main:
                    # The loss rows first: a run killed just after its checkpoint appears must
                    # not resume from it with the rows before it missing from logs/loss.csv.
                    logger.flush()
                    saved = save_checkpoint(
                        run.checkpoints, step, model.trainable_state(), _unwrapped(optimizer),
                        {"scheduler": scheduler.state_dict(), "loss": loss_value},
                        ema.state_dict() if ema is not None else None,
                        keep=config.keep_checkpoints)
            if main and config.validate_every and step % config.validate_every == 0:
                _validation_grid(model, examples, run, step, generator_config, logger)
    finally:
        bar.close()
        logger.close()
    accelerator.wait_for_everyone()
    if saved is None:
        saved = run.latest()
    assert saved is not None
    accelerator.end_training()
    return TrainResult(run_dir, config.max_steps, saved, loss_value, main)


def _unwrapped(optimizer: Any) -> torch.optim.Optimizer:
    """The torch optimizer inside accelerate's wrapper."""
    from accelerate.optimizer import AcceleratedOptimizer

    inner: torch.optim.Optimizer = (optimizer.optimizer
                                    if isinstance(optimizer, AcceleratedOptimizer) else optimizer)
    return inner


def _launched_without_gpus() -> bool:
    import os

    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.cuda.is_available()


def _restore(
    checkpoint: Checkpoint,
    model: VoxModel,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    ema: EMA | None,
) -> int:
    state = read_state(checkpoint)
    model.load_trainable_state(load_tensors(checkpoint.model_file), f"checkpoint {checkpoint.path}")
    load_optimizer(checkpoint, optimizer)
    scheduler.load_state_dict(state["scheduler"])
    if ema is not None:
        if not checkpoint.ema_file.is_file():
            raise UserError(f"checkpoint {checkpoint.path} has no EMA weights but the recipe "
                            "enables train.ema")
        ema.load_state_dict(load_tensors(checkpoint.ema_file))
    step: int = state["step"]
    return step


def _check_same_recipe(run: RunDir, resolved: ResolvedRecipe) -> None:
    changed = recipe_changes(run.load_recipe(), resolved)
    if changed:
        raise UserError(f"cannot resume {run.path}: the recipe differs from the one it was "
                        f"started with: {changed}. Only {', '.join(RESUMABLE_CHANGES)} may "
                        "change; start a new run (another --run-dir) for anything else")


def _enable_gradient_checkpointing(model: VoxModel, resolved: ResolvedRecipe) -> None:
    generator = model.generator
    if not isinstance(generator, SupportsGradientCheckpointing):
        raise UserError(f"train.gradient_checkpointing is on, but {resolved.generator.label} "
                        "does not support it")
    with model.blame("generator", "enabling gradient checkpointing"):
        generator.enable_gradient_checkpointing()


def _records(prepared: dict[str, PreparedArtifact]) -> dict[str, dict[str, Any]]:
    return {section: artifact.record() for section, artifact in prepared.items()}


def _to_device(batch: Batch, device: torch.device) -> Batch:
    features = batch.features
    if features is not None:
        features = SpeechFeatures(features.features.to(device), features.mask.to(device),
                                  features.frame_rate)
    return Batch(batch.images.to(device), features, batch.texts, batch.encoded)


def _attach_log_file(run: RunDir) -> logging.Handler:
    run.logs.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(run.logs / "train.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger("voxcore").addHandler(handler)
    return handler


@torch.no_grad()
def _validation_grid(model: VoxModel, examples: Examples, run: RunDir, step: int,
                     settings: Any, logger: _LossLog) -> None:
    count = min(VALIDATION_IMAGES, len(examples))
    batch = _to_device(examples.batch(list(range(count))), next(model.parameters()).device)
    was_training = model.training
    model.eval()
    try:
        features = model.encode_text(batch.texts) if batch.texts is not None else batch.features
        assert features is not None
        images = model.sample(
            model.condition(features), num_inference_steps=settings.steps,
            guidance_scale=settings.guidance_scale, scheduler=settings.scheduler,
            generator=torch.Generator().manual_seed(0))
    finally:
        model.train(was_training)
    grid = image_grid([*examples.previews[:count], *images.cpu()], columns=count, scale=2)
    save_image(grid, run.samples / f"step-{step:06d}.png")
    logger.image(step, images)


class _LossLog:
    """Loss rows in ``logs/loss.csv`` and TensorBoard events in ``logs/tensorboard``."""

    def __init__(self, run: RunDir, start: int, enabled: bool) -> None:
        self.enabled = enabled
        if not enabled:
            return
        run.logs.mkdir(parents=True, exist_ok=True)
        self.path = run.logs / "loss.csv"
        rows = _read_rows(self.path, upto=start)
        self.handle = self.path.open("w", newline="")
        self.writer = csv.writer(self.handle)
        self.writer.writerow(["step", "loss", "lr", "seconds"])
        self.writer.writerows(rows)  # a resumed run drops what came after its checkpoint
        from torch.utils import tensorboard

        writer: Any = tensorboard.SummaryWriter
        self.board = writer(str(run.logs / "tensorboard"), purge_step=start + 1)

    def add(self, step: int, loss: float, lr: float, seconds: float, every: int) -> None:
        if not self.enabled:
            return
        self.writer.writerow([step, f"{loss:.6f}", f"{lr:.3e}", f"{seconds:.2f}"])
        if step % every == 0:
            self.board.add_scalar("train/loss", loss, step)
            self.board.add_scalar("train/lr", lr, step)
            self.flush()

    def image(self, step: int, images: torch.Tensor) -> None:
        if self.enabled:
            self.board.add_images("validation", images.cpu(), step)

    def flush(self) -> None:
        if self.enabled:
            self.handle.flush()
            self.board.flush()

    def close(self) -> None:
        if self.enabled:
            self.handle.close()
            self.board.close()


def _read_rows(path: Path, upto: int) -> list[list[str]]:
    if upto == 0 or not path.is_file():
        return []
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    return [row for row in rows if row and int(row[0]) <= upto]


class _progress:
    """A tqdm bar over steps (a no-op when disabled)."""

    def __init__(self, total: int, initial: int, enabled: bool) -> None:
        self.bar: Any = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=initial, desc="train", unit="step",
                            dynamic_ncols=True)

    def update(self, step: int, loss: float) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{loss:.4f}", refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


