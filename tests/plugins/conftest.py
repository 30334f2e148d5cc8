from __future__ import annotations

from tests.storage.s3 import moto_s3  # noqa: F401 - a fixture
