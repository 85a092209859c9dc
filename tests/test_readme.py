"""The README documents every setting (a new field without a row fails here)."""

from __future__ import annotations

from pathlib import Path

from app.config import Settings

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_setting_is_in_the_configuration_table() -> None:
    text = README.read_text()
    table = text[text.index("## Configuration") :]
    for name in Settings.model_fields:
        assert f"| `{name.upper()}` |" in table, f"{name.upper()} is missing from README.md"


def test_quick_start_is_two_commands() -> None:
    text = README.read_text()
    quick_start = text[text.index("## Quick start") : text.index("## A short tour")]
    block = quick_start.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make run", "make test"]
