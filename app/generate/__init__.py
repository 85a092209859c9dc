"""Deterministic synthetic content for benchmarks: `dossier generate --scale small|large`.

`generator.generate(engine, scale, seed)` does the work; `command` is the CLI. This
module holds only constants so that importing the CLI stays cheap.
"""

SCALES: dict[str, float] = {"small": 1 / 60, "large": 1.0}
DEFAULT_SEED = 20261125
