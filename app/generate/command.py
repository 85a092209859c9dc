"""`dossier generate --scale small|large [--seed N]`."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from app.generate import DEFAULT_SEED


class Scale(StrEnum):
    small = "small"
    large = "large"


def generate_command(
    scale: Annotated[
        Scale,
        typer.Option(
            help="small: ~10k content items; large: ~600k items (200k events, 200k articles), "
            "~4M rows with links, tags and search documents.",
        ),
    ],
    seed: Annotated[int, typer.Option(help="Same seed, same data.")] = DEFAULT_SEED,
) -> None:
    """Add deterministic synthetic content (for benchmarks) to the configured database.

    Migrates first. Ids continue after the existing rows, so it can run after
    `dossier demo`. It refuses to run twice on the same database.
    """
    from sqlalchemy.engine import make_url

    from app.config import get_settings
    from app.db import make_engine
    from app.generate.generator import GenerationError, database_size, generate
    from app.migrations import upgrade_to_head

    settings = get_settings()
    upgrade_to_head(settings.database_url)
    engine = make_engine(settings.database_url, settings)
    try:
        report = generate(engine, scale.value, seed)
        size = database_size(engine)
    except GenerationError as exc:
        typer.echo(f"Cannot generate: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(
        f"Generated the {scale.value} dataset (seed {seed}): {report.total_rows:,} rows in "
        f"{report.seconds:.1f} s (load {report.load_seconds:.1f} s, analyze {report.analyze_seconds:.1f} s)."
    )
    typer.echo(
        "  " + ", ".join(f"{table} {count:,}" for table, count in sorted(report.rows.items()))
    )
    where = make_url(settings.database_url).render_as_string(hide_password=True)
    typer.echo(f"Database {where}: {size / 1e6:,.1f} MB.")
