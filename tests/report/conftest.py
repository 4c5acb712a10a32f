from __future__ import annotations

from pathlib import Path

import pytest
from report_fixtures import make_sweep


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    return make_sweep(tmp_path)
