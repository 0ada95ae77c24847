"""Where the exposure model is kept: one file per model version and data hash, in a cache every
home shares, built from the data the first time it is asked for.

Apart from the role profiles (``service``), so that ``classify`` loads the model without importing
what a profile needs.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from guarantor.data.files import data_dir, observed_dir
from guarantor.errors import ModelError
from guarantor.settings import Settings
from guarantor.tasks import catalogue
from guarantor.tasks.model import VERSION, ExposureModel, Progress


def model_path(settings: Settings, digest: str) -> Path:
    return settings.model_dir / f"exposure-{VERSION}-{digest[:16]}.npz"


def data_hash(settings: Settings) -> str:
    return catalogue.data_hash(data_dir(settings), observed_dir(settings))


def load_or_build(settings: Settings, progress: Progress | None = None) -> ExposureModel:
    """The cached model for the current data, built (and cached) first if there is none; ``progress``
    hears each step of a build."""
    folder = data_dir(settings)
    digest = data_hash(settings)
    path = model_path(settings, digest)
    if path.is_file():
        return ExposureModel.load(path)
    return build(settings, folder, digest, metrics=None, progress=progress)


def build(
    settings: Settings,
    folder: Path,
    digest: str,
    metrics: dict[str, object] | None,
    progress: Progress | None = None,
) -> ExposureModel:
    _can_keep(settings.model_dir)
    rows = catalogue.read_labelled(folder)
    applicability = catalogue.read_applicability(observed_dir(settings))
    meta = {"data_hash": digest, "rows": len(rows), "metrics": metrics}
    model = ExposureModel.train(rows, meta, applicability, progress)
    model.save(model_path(settings, digest))
    return model


def _can_keep(folder: Path) -> None:
    """Before a build of a minute, not after it: a cache folder that cannot be written fails at once.
    Not built and used unkept instead: every command would then build it again, unsaid."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ModelError(
            f"The exposure model cannot be kept in {folder}: {exc.strerror or exc}.",
            hint="Set GUARANTOR_CACHE_DIR to a folder this user can write.",
        ) from exc
