"""The model plugin's configuration: which weights file, how factors are named and explained, state size."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, FilePath

from aegis_scoring_model.features import DEFAULT_RING_SIZE


def default_weights_path() -> Path:
    """The model shipped inside the plugin (trained on PaySim; see the README for the command)."""
    return Path(str(resources.files("aegis_scoring_model").joinpath("model_weights.json")))


class ModelConfig(BaseModel):
    """Configuration of the ``model`` scoring plugin."""

    model_config = ConfigDict(extra="forbid")

    weights: FilePath | None = Field(
        None, description="the weights file (model_weights.json); null: the model shipped with the plugin. "
                          "Replace it by writing a new file and renaming it over the old: it is hot-reloaded")
    factor_prefix: str = Field(
        "MODEL_", pattern=r"^([A-Z][A-Z0-9]*_)?$",
        description="prefix of the factor names (MODEL_AMOUNT, MODEL_BALANCE, ...), so they never collide "
                    "with another plugin's factors; give these factors weight 1.0 in the decision section so "
                    "the risk they add is the model's score")
    ring_size: int = Field(DEFAULT_RING_SIZE, ge=2, le=1024,
                           description="payments remembered per account and direction (in and out); fan-out, "
                                       "fan-in, velocity and percentiles see at most this many")
    details: bool = Field(True, description="explain each factor's contribution in the decision record")
    details_from: float = Field(0.01, ge=0, le=1,
                                description="explain a factor only where its contribution is at least this")
    details_features: int = Field(3, ge=1, le=20, description="features named per explained factor, largest first")

    def weights_path(self) -> Path:
        return Path(self.weights) if self.weights is not None else default_weights_path()
