"""The thresholds file: velocity and amount limits that change without a restart.

The file holds a ``velocity`` and/or an ``amount`` section with the same keys as the deployment
YAML's; a section in the file replaces the YAML's. NaN and infinity are refused, and so is a
change of ``velocity.ring_size`` while running (the per-account state is sized by it).
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from aegis_scoring_rules.config import RulesConfig, ThresholdsFile


class ThresholdsError(ValueError):
    """A thresholds file that cannot be used; the message names the file and the field."""


def parse_thresholds(content: bytes, path: Path) -> ThresholdsFile:
    """Validate a thresholds file's bytes (YAML, so JSON too)."""
    try:
        doc = yaml.safe_load(content.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ThresholdsError(f"{path}: not a YAML/JSON document: {exc}") from exc
    if not isinstance(doc, dict):
        raise ThresholdsError(f"{path}: expected a mapping with velocity and/or amount, got {type(doc).__name__}")
    try:
        return ThresholdsFile.model_validate(doc)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg']}" for e in exc.errors())
        raise ThresholdsError(f"{path}: {problems}") from exc


def apply_thresholds(config: RulesConfig, content: bytes | None, path: Path | None,
                     ring_size: int | None = None) -> RulesConfig:
    """The effective configuration with the file's sections in force.

    :param ring_size: the running state's ring size; a file that changes it is refused.
    """
    if content is None or path is None:
        return config
    file = parse_thresholds(content, path)
    update = {k: v for k, v in (("velocity", file.velocity), ("amount", file.amount)) if v is not None}
    effective = config.model_copy(update=update)
    if ring_size is not None and effective.velocity.ring_size != ring_size:
        raise ThresholdsError(f"{path}: velocity.ring_size {effective.velocity.ring_size} differs from the "
                              f"running {ring_size}; the per-account state is sized by it, so changing it "
                              "needs a restart")
    return effective


def describe_change(old: RulesConfig, new: RulesConfig) -> str:
    """``velocity.windows[0].max_count 10 -> 5; ...`` for the thresholds that differ."""
    def flat(value: object, prefix: str) -> dict[str, object]:
        if isinstance(value, dict):
            return {k: v for key, item in value.items() for k, v in flat(item, f"{prefix}.{key}").items()}
        if isinstance(value, list):
            return {k: v for i, item in enumerate(value) for k, v in flat(item, f"{prefix}[{i}]").items()}
        return {prefix: value}
    before, after = ({**flat(c.velocity.model_dump(mode="json"), "velocity"),
                      **flat(c.amount.model_dump(mode="json"), "amount")} for c in (old, new))
    changed = [f"{k} {before.get(k)} -> {after.get(k)}" for k in sorted(before.keys() | after.keys())
               if before.get(k) != after.get(k)]
    return "; ".join(changed) or "no threshold changed"
