"""Mail templates: `galaxy_mail/templates/<template_id>/<locale>.toml`, each a subject and a text body.

A template file has two keys, `subject` and `body`, written with
`string.Template` placeholders (`${code}`), and may list `secret_variables`
(a login code): variables that are erased from the delivery as soon as it is
sent or dead-lettered, so a dead letter of such a template cannot be resent.
Every template ships `en`; a requested locale that is not shipped falls back to its primary language
(`de-AT` → `de`) and then to `en`. Every placeholder is a required variable:
a delivery missing one is refused at enqueue time, so the worker never meets a
message it cannot render. Extra variables are ignored. No HTML, no escaping:
the body is sent as `text/plain; charset=utf-8`.

How to add a template or a language: docs/mail.md.
"""

from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

from galaxy_kit.errors import InvalidArgument
from galaxy_kit.validation import choose_locale

DEFAULT_LOCALE = "en"
TEMPLATE_ID = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")


class TemplateError(InvalidArgument):
    """An unknown template, or variables that do not fit it (client-safe message, never a value)."""


@dataclass(frozen=True)
class LocalizedTemplate:
    locale: str
    subject: string.Template
    body: string.Template
    secret: frozenset[str] = frozenset()

    @property
    def variables(self) -> frozenset[str]:
        return frozenset(self.subject.get_identifiers()) | frozenset(self.body.get_identifiers())


RESOLVED_LOCALES_KEPT = 1024


@dataclass(frozen=True)
class RenderedMail:
    template_id: str
    locale: str
    subject: str
    body: str


class TemplateCatalog:
    """Every template of the service, loaded and checked once at start-up."""

    def __init__(self, templates: dict[str, dict[str, LocalizedTemplate]]) -> None:
        for template_id, locales in templates.items():
            if DEFAULT_LOCALE not in locales:
                raise ValueError(f"mail template {template_id!r} has no {DEFAULT_LOCALE!r} version")
            for template in locales.values():
                for part in (template.subject, template.body):
                    if not part.is_valid():
                        raise ValueError(f"mail template {template_id}/{template.locale} has a bad placeholder")
        self._templates = templates
        #: resolve_locale's answers: callers send a handful of distinct locale values, and
        #: negotiating one (parsing the tags) cost more than the rest of an enqueue's checks.
        self._resolved: dict[tuple[str, str], str] = {}
        #: Every template's placeholders, parsed once (checked on every enqueue and render).
        self._required = {
            template_id: frozenset().union(*(template.variables for template in locales.values()))
            for template_id, locales in templates.items()
        }
        for template_id in templates:
            # A misspelt name would leave the real secret stored: refuse to start instead.
            unknown = self.secret_variables(template_id) - self.required_variables(template_id)
            if unknown:
                raise ValueError(
                    f"mail template {template_id!r} declares secret_variables it does not use: "
                    f"{', '.join(sorted(unknown))}"
                )

    @classmethod
    def load(cls, root: Traversable | None = None) -> TemplateCatalog:
        root = root or resources.files("galaxy_mail") / "templates"
        templates: dict[str, dict[str, LocalizedTemplate]] = {}
        for directory in root.iterdir():
            if not directory.is_dir() or not TEMPLATE_ID.match(directory.name):
                continue
            locales: dict[str, LocalizedTemplate] = {}
            for file in directory.iterdir():
                if not file.name.endswith(".toml"):
                    continue
                locale = file.name.removesuffix(".toml").lower()
                data = tomllib.loads(file.read_text(encoding="utf-8"))
                locales[locale] = LocalizedTemplate(
                    locale=locale,
                    subject=string.Template(str(data["subject"]).strip()),
                    body=string.Template(str(data["body"]).lstrip("\n")),
                    secret=frozenset(str(name) for name in data.get("secret_variables", [])),
                )
            if locales:
                templates[directory.name] = locales
        return cls(templates)

    @property
    def template_ids(self) -> list[str]:
        return sorted(self._templates)

    def locales(self, template_id: str) -> list[str]:
        return sorted(self._locales_of(template_id))

    def _locales_of(self, template_id: str) -> dict[str, LocalizedTemplate]:
        locales = self._templates.get(template_id)
        if locales is None:
            raise TemplateError(f"unknown template_id {template_id!r}"[:200])
        return locales

    def resolve_locale(self, template_id: str, requested: str) -> str:
        """The shipped locale that best fits `requested` (a BCP 47 tag or an Accept-Language value)."""
        key = (template_id, requested)
        resolved = self._resolved.get(key)
        if resolved is not None:
            return resolved
        shipped = self._locales_of(template_id)
        # The suite's one negotiation (galaxy_kit.validation): q-values, truncation, primary language.
        supported = [DEFAULT_LOCALE, *sorted(locale for locale in shipped if locale != DEFAULT_LOCALE)]
        resolved = choose_locale(explicit=None, accept_language=requested, supported=supported)
        if len(self._resolved) >= RESOLVED_LOCALES_KEPT:  # values come from callers: stay bounded
            self._resolved.clear()
        self._resolved[key] = resolved
        return resolved

    def required_variables(self, template_id: str) -> frozenset[str]:
        self._locales_of(template_id)  # an unknown template is refused
        return self._required[template_id]

    def secret_variables(self, template_id: str) -> frozenset[str]:
        """Variables erased once the delivery is sent or dead-lettered (declared in any locale)."""
        names: frozenset[str] = frozenset()
        for template in self._locales_of(template_id).values():
            names |= template.secret
        return names

    def check(self, template_id: str, variables: dict[str, str]) -> None:
        """Refuse an unknown template or missing variables (names only in the message, never values)."""
        missing = sorted(self.required_variables(template_id) - set(variables))
        if missing:
            raise TemplateError(f"template {template_id!r} needs variables: {', '.join(missing)}")

    def render(self, template_id: str, locale: str, variables: dict[str, str]) -> RenderedMail:
        locales = self._locales_of(template_id)
        template = locales.get(locale) or locales[DEFAULT_LOCALE]
        self.check(template_id, variables)
        return RenderedMail(
            template_id=template_id,
            locale=template.locale,
            # A subject is one line whatever a variable holds (no header folding tricks).
            subject=" ".join(template.subject.substitute(variables).split()),
            body=template.body.substitute(variables),
        )
