"""Shape checks shared by orders, commands and the roster: exact types, no extra fields.

Counts must be JSON integers (a Python int, never a bool or a float: `5.0`
is refused, so no value is ever rounded on its way into the game).
"""

from __future__ import annotations

import re
from typing import Any

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_]{1,20}$")
NAME_RULE = "1 to 20 letters, digits or underscores"


def is_int(value: Any) -> bool:
    return type(value) is int


class Fields:
    """Reads one JSON object, collecting every problem under a path prefix."""

    def __init__(self, obj: Any, where: str, problems: list[str]) -> None:
        self.where = where
        self.problems = problems
        self.obj = obj if isinstance(obj, dict) else None
        self.seen: set[str] = set()
        if self.obj is None:
            problems.append(f"{where}: must be an object")

    def _get(self, key: str, required: bool) -> tuple[bool, Any]:
        self.seen.add(key)
        if self.obj is None:
            return False, None
        if key not in self.obj:
            if required:
                self.problems.append(f"{self.where}.{key}: required")
            return False, None
        return True, self.obj[key]

    def integer(self, key: str, *, minimum: int = 0, required: bool = True) -> int | None:
        present, value = self._get(key, required)
        if not present:
            return None
        if not is_int(value):
            self.problems.append(f"{self.where}.{key}: must be an integer")
            return None
        if value < minimum:
            self.problems.append(f"{self.where}.{key}: must be at least {minimum}")
            return None
        return value

    def text(self, key: str, *, required: bool = True, max_length: int = 200) -> str | None:
        present, value = self._get(key, required)
        if not present:
            return None
        if not isinstance(value, str) or not value or len(value) > max_length:
            self.problems.append(f"{self.where}.{key}: must be a string of 1 to {max_length} characters")
            return None
        return value

    def name(self, key: str, *, required: bool = True) -> str | None:
        present, value = self._get(key, required)
        if not present:
            return None
        if not isinstance(value, str) or not NAME_PATTERN.match(value):
            self.problems.append(f"{self.where}.{key}: must be {NAME_RULE}")
            return None
        return value

    def choice(self, key: str, choices: list[str], *, required: bool = True) -> str | None:
        present, value = self._get(key, required)
        if not present:
            return None
        if value not in choices:
            self.problems.append(f"{self.where}.{key}: must be one of {', '.join(choices)}")
            return None
        return value

    def flag(self, key: str, *, required: bool = True) -> bool | None:
        present, value = self._get(key, required)
        if not present:
            return None
        if not isinstance(value, bool):
            self.problems.append(f"{self.where}.{key}: must be true or false")
            return None
        return value

    def array(self, key: str, *, required: bool = True, max_items: int = 1000) -> list | None:
        present, value = self._get(key, required)
        if not present:
            return None
        if not isinstance(value, list) or len(value) > max_items:
            self.problems.append(f"{self.where}.{key}: must be a list of at most {max_items} items")
            return None
        return value

    def no_others(self) -> None:
        if self.obj is None:
            return
        for key in sorted(set(self.obj) - self.seen):
            self.problems.append(f"{self.where}.{key}: unknown field")
