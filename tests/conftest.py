"""Fixtures shared by the unit and the functional tests."""

import bcrypt
import pytest


@pytest.fixture
def user_file(tmp_path):
    """An htpasswd file with the user ``alice``, password ``s3cret`` (bcrypt, cheap rounds)."""
    path = tmp_path / "htpasswd"
    digest = bcrypt.hashpw(b"s3cret", bcrypt.gensalt(rounds=4)).decode()
    path.write_text(f"alice:{digest}\n")
    return path
