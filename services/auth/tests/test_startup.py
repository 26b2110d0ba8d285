"""Start-up of `python -m galaxy_auth`: it refuses to run without its secrets, and says why."""

from __future__ import annotations

import os
import subprocess
import sys

DSN_PASSWORD = "dsn-password-that-must-not-show"


def run_auth(**settings: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GALAXY_")}
    # Nothing listens here: a process that got past its settings would fail differently.
    env["GALAXY_DATABASE_URL"] = f"postgresql://galaxy:{DSN_PASSWORD}@127.0.0.1:9/galaxy"
    env.update(settings)
    return subprocess.run(
        [sys.executable, "-m", "galaxy_auth"], env=env, capture_output=True, text=True, timeout=120,
        check=False,
    )


def test_auth_refuses_to_start_without_a_pepper_and_says_so():
    result = run_auth()
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "galaxy-auth refuses to start" in result.stderr
    assert "GALAXY_AUTH_CODE_PEPPER is not set" in result.stderr
    assert "Traceback" not in output
    assert DSN_PASSWORD not in output


def test_a_short_pepper_is_refused_too():
    result = run_auth(GALAXY_AUTH_CODE_PEPPER="tiny-secret")
    assert result.returncode != 0
    assert "GALAXY_AUTH_CODE_PEPPER must be at least 32 characters" in result.stderr
    assert "tiny-secret" not in result.stdout + result.stderr
