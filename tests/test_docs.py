"""The README's defaults table is generated from the settings table and must stay in step."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kickclip.errors import InvalidInput
from kickclip.settings import Settings, markdown_table

README = Path(__file__).parents[1] / "README.md"


def test_readme_defaults_table_matches_settings() -> None:
    block = re.search(
        r"<!-- settings-table -->\n(.*?)\n<!-- /settings-table -->", README.read_text(), re.S
    )
    assert block, "README lost its settings-table markers"
    assert block.group(1).strip() == markdown_table()


@pytest.mark.parametrize(
    ("field", "value"), [("clip_duration", 0.5), ("top", 0), ("min_gap", -1.0)]
)
def test_settings_reject_out_of_bounds(field: str, value: float) -> None:
    with pytest.raises(InvalidInput, match=field.replace("_", "-")):
        Settings(**{field: value})
