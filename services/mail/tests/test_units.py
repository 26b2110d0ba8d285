"""Mail's pure rules: templates and locales, the retry policy, SMTP error classes, settings."""

from __future__ import annotations

import email
import email.policy
import random

import aiosmtplib
import pytest
from galaxy_kit.errors import InvalidArgument
from pydantic import SecretStr, ValidationError

from galaxy_mail.domain.retry import RetryPolicy
from galaxy_mail.domain.templates import DEFAULT_LOCALE, TemplateCatalog
from galaxy_mail.settings import MailSettings
from galaxy_mail.smtp import DELIVERY_ID_HEADER, SmtpSender, classify

CATALOG = TemplateCatalog.load()


def test_every_template_ships_english_and_all_languages_need_the_same_variables():
    assert "login_code" in CATALOG.template_ids
    assert {"en", "de", "ru"} <= set(CATALOG.locales("login_code"))
    for template_id in CATALOG.template_ids:
        needed = CATALOG.required_variables(template_id)
        for locale in CATALOG.locales(template_id):
            mail = CATALOG.render(template_id, locale, {name: f"<{name}>" for name in needed})
            assert mail.locale == locale and mail.subject and mail.body
            assert all(f"<{name}>" in mail.subject + mail.body for name in needed)


@pytest.mark.parametrize(
    ("requested", "resolved"),
    [
        ("en", "en"),
        ("de", "de"),
        ("de-AT", "de"),
        ("DE_de", "de"),
        ("ru-RU", "ru"),
        ("fr", DEFAULT_LOCALE),
        ("", DEFAULT_LOCALE),
        ("fr-CA, ru;q=0.8, de;q=0.9", "de"),
        ("de;q=0, ru", "ru"),
        ("not a locale!", DEFAULT_LOCALE),
    ],
)
def test_locale_resolution_falls_back_to_primary_language_then_english(requested, resolved):
    assert CATALOG.resolve_locale("login_code", requested) == resolved


def test_login_code_renders_in_each_language():
    en = CATALOG.render("login_code", "en", {"code": "112358"})
    de = CATALOG.render("login_code", "de", {"code": "112358"})
    assert en.subject == "Your Galaxy login code" and "112358" in en.body
    assert de.subject == "Dein Galaxy-Anmeldecode" and "112358" in de.body
    assert "112358" not in en.subject, "the code stays out of the subject line"


def test_unknown_template_and_missing_variables_are_invalid_arguments():
    with pytest.raises(InvalidArgument):
        CATALOG.check("no_such_template", {"code": "1"})
    with pytest.raises(InvalidArgument) as raised:
        CATALOG.check("login_code", {"other": "secret-value"})
    assert "code" in raised.value.message and "secret-value" not in raised.value.message


def test_a_variable_cannot_break_the_subject_into_headers(tmp_path):
    (tmp_path / "greeting").mkdir()
    (tmp_path / "greeting" / "en.toml").write_text('subject = "Hi ${name}"\nbody = "Hello ${name}"\n')
    catalog = TemplateCatalog.load(tmp_path)
    mail = catalog.render("greeting", "en", {"name": "x\r\nBcc: victim@example.com"})
    assert "\n" not in mail.subject and "\r" not in mail.subject


def test_a_template_without_english_is_refused_at_start_up(tmp_path):
    (tmp_path / "greeting").mkdir()
    (tmp_path / "greeting" / "de.toml").write_text('subject = "Hallo"\nbody = "Hallo"\n')
    with pytest.raises(ValueError, match="no 'en' version"):
        TemplateCatalog.load(tmp_path)


def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    policy = RetryPolicy(max_attempts=8, base_seconds=30, factor=2, cap_seconds=3600, jitter=0.5)
    assert [policy.ceiling(n) for n in range(1, 9)] == [30, 60, 120, 240, 480, 960, 1920, 3600]
    rng = random.Random(7)
    for n in range(1, 12):
        delays = {policy.delay(n, rng).total_seconds() for _ in range(50)}
        assert all(policy.ceiling(n) * 0.5 <= d <= policy.ceiling(n) for d in delays)
        assert len(delays) > 1, "jitter spreads retries"
    assert not policy.exhausted(7) and policy.exhausted(8)
    assert RetryPolicy(3, 1, 10, 5, 0).ceiling(10_000) == 5  # no overflow, capped


def test_the_default_policy_matches_the_documentation():
    policy = RetryPolicy.from_settings(MailSettings())
    assert (policy.max_attempts, policy.base_seconds, policy.factor, policy.cap_seconds, policy.jitter) == (
        8, 30.0, 2.0, 3600.0, 0.5,
    )


def test_smtp_errors_are_permanent_only_for_a_5xx_refusal_of_the_message():
    assert classify(aiosmtplib.SMTPDataError(451, "try later")).outcome == "failed"
    assert classify(aiosmtplib.SMTPDataError(554, "spam")).outcome == "rejected"
    assert classify(aiosmtplib.SMTPSenderRefused(553, "no", "a@b.c")).outcome == "rejected"
    refused = aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, "no such user", "x@y.z")])
    assert classify(refused).outcome == "rejected"
    greylisted = aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(450, "later", "x@y.z")])
    assert classify(greylisted).outcome == "failed"
    assert classify(aiosmtplib.SMTPAuthenticationError(535, "bad credentials")).outcome == "failed"
    assert classify(ConnectionRefusedError(111, "refused")).outcome == "failed"
    assert classify(aiosmtplib.SMTPDataError(451, "try later")).error == "451 try later"


def test_smtp_defaults_point_at_the_local_sink(monkeypatch):
    for name in ("GALAXY_SMTP_HOST", "GALAXY_SMTP_PORT", "GALAXY_SMTP_STARTTLS", "GALAXY_MAIL_FROM"):
        monkeypatch.delenv(name, raising=False)
    settings = MailSettings()
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_starttls) == ("127.0.0.1", 2525, False)
    assert settings.mail_from == "Galaxy <no-reply@galaxy.local>"
    monkeypatch.setenv("GALAXY_SMTP_PORT", "1025")
    monkeypatch.setenv("GALAXY_SMTP_STARTTLS", "true")
    monkeypatch.setenv("GALAXY_MAIL_MAX_ATTEMPTS", "3")
    settings = MailSettings()
    assert (settings.smtp_port, settings.smtp_starttls, settings.mail_max_attempts) == (1025, True, 3)


def test_a_lease_shorter_than_the_smtp_timeout_is_refused():
    with pytest.raises(ValidationError):
        MailSettings(smtp_timeout_seconds=30, mail_lease_seconds=20)


def test_the_login_code_is_a_secret_variable_and_a_misspelt_secret_is_refused_at_start_up(tmp_path):
    assert CATALOG.secret_variables("login_code") == {"code"}
    (tmp_path / "reset").mkdir()
    (tmp_path / "reset" / "en.toml").write_text(
        'secret_variables = ["tokn"]\nsubject = "Reset"\nbody = "Your token: ${token}"\n'
    )
    with pytest.raises(ValueError, match="tokn"):
        TemplateCatalog.load(tmp_path)


def test_the_smtp_password_is_a_secret_and_never_shows_in_a_repr(monkeypatch):
    monkeypatch.setenv("GALAXY_SMTP_PASSWORD", "hunter2-smtp")
    settings = MailSettings()
    assert isinstance(settings.smtp_password, SecretStr)
    assert settings.smtp_password.get_secret_value() == "hunter2-smtp"
    assert "hunter2-smtp" not in repr(settings) and "hunter2-smtp" not in str(settings.model_dump())
    sender = SmtpSender(settings)
    assert "hunter2-smtp" not in repr(vars(sender))


def test_delivery_retention_defaults_to_thirty_days_and_must_be_positive():
    assert MailSettings().mail_delivery_retention_seconds == 30 * 86_400
    with pytest.raises(ValidationError, match="GALAXY_MAIL_DELIVERY_RETENTION_SECONDS"):
        MailSettings(mail_delivery_retention_seconds=0)


def test_a_built_message_reads_back_whole_in_every_shipped_locale():
    """The message is built with the cheap compat32 classes: what a receiver parses must still be
    the subject (RFC 2047 where not ASCII), the body, the headers the worker relies on."""
    catalog = TemplateCatalog.load()
    sender = SmtpSender(MailSettings(database_url="postgresql://mail@localhost/mail",
                                     mail_from="Galaxÿ Støre <no-reply@galaxy.test>"))
    for locale, subject in (("en", "Your Galaxy login code"), ("de", "Dein Galaxy-Anmeldecode"),
                            ("ru", "Ваш код входа в Galaxy")):
        mail = catalog.render("login_code", locale, {"code": "493817"})
        raw = sender.build(delivery_id="d-1", recipient="player@example.com", mail=mail)
        assert raw.isascii()  # nothing needs SMTPUTF8
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert parsed["Subject"] == subject
        assert parsed["From"] == "Galaxÿ Støre <no-reply@galaxy.test>"
        assert parsed["To"] == "player@example.com"
        assert parsed["Message-ID"] == "<d-1@galaxy.test>" and parsed[DELIVERY_ID_HEADER] == "d-1"
        assert parsed["Content-Language"] == locale and parsed.get_content_type() == "text/plain"
        assert parsed.get_content() == mail.body


def test_a_long_subject_is_folded_and_reads_back_whole():
    """A subject made long by its variables is folded over lines a receiver unfolds again."""
    sender = SmtpSender(MailSettings(database_url="postgresql://mail@localhost/mail"))
    name = " ".join(["Andromeda"] * 12)
    mail = CATALOG.render("notify.game_started", "en", {"game_name": name})
    raw = sender.build(delivery_id="d-2", recipient="player@example.com", mail=mail)
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert all(len(line) <= 78 for line in head.split(b"\r\n"))
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == mail.subject and name in mail.subject
    assert parsed.get_content() == mail.body


def test_a_recipient_outside_ascii_gets_a_message_aiosmtplib_sends_with_smtputf8():
    sender = SmtpSender(MailSettings(database_url="postgresql://mail@localhost/mail"))
    mail = CATALOG.render("login_code", "en", {"code": "493817"})
    message = sender.build(delivery_id="d-3", recipient="jürgen@example.com", mail=mail)
    assert not isinstance(message, bytes)
    assert message["To"] == "jürgen@example.com" and message.get_payload(decode=True).decode() == mail.body


def test_a_remembered_locale_answer_belongs_to_its_template():
    """resolve_locale keeps its answers: the same requested value for a template without that
    language still falls back to English, asked in either order."""
    for _ in range(2):
        assert CATALOG.resolve_locale("login_code", "de-AT") == "de"
        assert CATALOG.resolve_locale("notify.game_started", "de-AT") == "en"
