"""Faults under load: crash auth, account and mail in turn, then the broker and PostgreSQL.

A stream of sign-ins (send a code, read it from the local SMTP sink, confirm),
profile and settings writes and account deletions runs through the edge over
HTTP while one part at a time is SIGKILLed and restarted on the same port.
The suite has its own PostgreSQL, broker and SMTP sink (`private_suite`), so
the faults touch no other test.

What a client may see: a 2xx, a `503 service_unavailable` in the envelope
while something it needs is down, or — only when it retries a request whose
first answer was ambiguous — a documented 4xx in the envelope ("this code can
no longer be used"). Never a 500, never something that is not the envelope.
While auth, account or mail is down, a request that needs it answers 503; a
code request needs only auth and account (auth queues the code for mail), so
it is accepted while mail is down or frozen, and its e-mail arrives later.

The broker runs on memory storage (Tansu, as in `make up`): a restart loses
every topic, record and committed offset, including records it had
acknowledged that no consumer had read yet. That last loss is the dev broker's
and no producer can prevent it, so the broker is killed while account (the
producer of the events) is frozen and after auth applied what was published;
everything else about the restart (topics recreated, unpublished events
published to the new broker, the consumer rejoining) is under test.

What must hold in the data afterwards (checked in the services' schemas and
the SMTP sink's files, not through the API):

- every accepted code request has exactly one e-mail (one Message-ID; the
  same message delivered again after mail was killed mid-send is counted
  apart, as mail.md documents at-least-once SMTP across crashes);
- every accepted confirmation has its device session;
- every accepted profile or settings write is the stored value (or a later
  write that got an ambiguous 503 is);
- every accepted deletion deleted the account, its lifecycle event reached
  auth exactly once (one inbox row) and revoked each of the user's sessions
  exactly once (one revocation row each);
- and, whatever the answers were: no lifecycle event applied twice, no
  session revoked twice, no login code mailed under two Message-IDs.

The figures (requests, faults, errors, effects lost and doubled, recovery
times) are printed (`pytest -s`) and written to `fault-figures.json` in the
test's tmp directory.
"""

from __future__ import annotations

import email
import email.policy
import json
import random
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import httpx
import pytest
from galaxy_devstack.smtp_sink import message_files
from galaxy_devstack.stack import PROCESSES
from galaxy_devstack.testing import Suite, launch_suite
from suite_helpers import new_address, public_key, query

# Kills, pauses and restarts the suite's processes: not against an external suite (make compose-test).
pytestmark = [pytest.mark.suite, pytest.mark.local_processes]

#: Load generators running side by side (each one user journey at a time).
WORKERS = 3
#: How long the load runs before the first fault, and between a restart and the next fault.
SETTLE_SECONDS = 2.0
#: How long each part stays down while the load goes on.
DOWN_SECONDS = 2.0
#: After the last fault: the bound on "a whole sign-in succeeds again" and on every
#: accepted effect showing up in the data. Generous: eight processes on two busy cores.
RECOVERY_SECONDS = 90.0
CONVERGENCE_SECONDS = 120.0
#: How long one journey waits for its login code before giving up (mail may be down,
#: or may have died mid-send: its lease below must run out before the mail goes again).
CODE_WAIT_SECONDS = 40.0
REQUEST_TIMEOUT_SECONDS = 30.0

#: Settings that keep crash recovery short (docs/configuration.md): a killed mail
#: worker's deliveries are taken over after its lease, auth's consumer group notices a
#: killed member after its session timeout, auth's login-mail queue retries mail often.
FAULT_ENVIRONMENT = {
    "GALAXY_AUTH_LOGIN_MAIL_POLL_INTERVAL_SECONDS": "0.5",
    "GALAXY_AUTH_LOGIN_MAIL_MAX_BACKOFF_SECONDS": "2",
    "GALAXY_SMTP_TIMEOUT_SECONDS": "5",
    "GALAXY_MAIL_LEASE_SECONDS": "8",
    "GALAXY_MAIL_POLL_INTERVAL_SECONDS": "0.5",
    "GALAXY_MAIL_RETRY_BASE_SECONDS": "1",
    "GALAXY_MAIL_RETRY_CAP_SECONDS": "5",
    "GALAXY_AUTH_LIFECYCLE_SESSION_TIMEOUT_MS": "6000",
    "GALAXY_ACCOUNT_RELAY_POLL_INTERVAL_SECONDS": "0.5",
}

#: 4xx answers a client can get in this load, all documented, all in the envelope:
#: a confirmation retried after an ambiguous 503 whose first attempt did commit
#: (the challenge is used), or a user whose ambiguous deletion did commit.
DOCUMENTED_4XX = {400: "invalid_request", 404: "not_found", 409: "conflict"}
UNAVAILABLE = (503, "service_unavailable")

SEND = "/api/v1/public/auth/send-email-code"
CONFIRM = "/api/v1/public/auth/confirm-email-code"
PROFILE = "/api/v1/user/account/profile"
SETTINGS = "/api/v1/user/account/settings"
DELETE = "/api/v1/user/account/delete"
CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
ZONES = ("Europe/Berlin", "America/Sao_Paulo", "Asia/Tokyo", "UTC")


@pytest.fixture(scope="module")
def private_suite(request) -> Iterator[Suite]:
    """A suite with its own PostgreSQL, broker and SMTP sink, so faults in them touch no other test.

    Its state directory (every process's log, the mail) is kept when a test failed.
    """
    # Not under pytest's tmp_path: as root the server runs as `postgres`, which cannot enter it.
    state_dir = Path(tempfile.mkdtemp(prefix="galaxy-faults-"))
    failed_before = request.session.testsfailed
    with launch_suite(state_dir, environ=FAULT_ENVIRONMENT) as running:
        yield running
    if request.session.testsfailed == failed_before:
        shutil.rmtree(state_dir, ignore_errors=True)
    else:
        print(f"\nthe fault suite's logs and mail are kept in {state_dir}")


# -- what the load saw -------------------------------------------------------------------------


@dataclass
class Ledger:
    """Every request the load made and every effect the edge accepted (thread-safe)."""

    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    bad_answers: list[str] = field(default_factory=list)
    #: address -> challenge id of each accepted code request (one request per address).
    sends: dict[str, str] = field(default_factory=dict)
    #: addresses whose code request got an ambiguous answer (503, timeout).
    ambiguous_sends: set[str] = field(default_factory=set)
    #: device session id -> challenge id of each accepted confirmation.
    sessions: dict[str, str] = field(default_factory=dict)
    #: user id -> [(field, value, accepted)] in the order sent (one user is written by one thread).
    writes: dict[str, list[tuple[str, str, bool]]] = field(default_factory=dict)
    deletions: set[str] = field(default_factory=set)
    journeys_completed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(
        self, method: str, path: str, response: httpx.Response | None, *, retry: bool, failure: str = ""
    ) -> None:
        """Count an answer; note it when it is neither 2xx, 503 in the envelope, nor (for the
        retry of an ambiguous request only) a documented 4xx in the envelope. Without an
        answer, `failure` says what happened instead (a timeout, a dropped connection)."""
        with self.lock:
            self.requests += 1
            if response is None:
                self.statuses[failure] += 1
                return
            self.statuses[response.status_code] += 1
            if response.is_success:
                return
            problem = _envelope_problem(response, retry=retry)
            if problem:
                self.bad_answers.append(f"{method} {path}: {problem}")

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if isinstance(status, str) or status >= 400)


def _envelope_problem(response: httpx.Response, *, retry: bool) -> str | None:
    """Why a non-2xx answer is not a 503 (or, retrying, a documented 4xx) in the envelope."""
    try:
        error = response.json()["error"]
        code = error["code"]
        assert isinstance(error["message"], str) and error["message"]
    except Exception:  # noqa: BLE001 - anything else is the problem
        return f"{response.status_code} without the envelope: {response.text[:200]!r}"
    if (response.status_code, code) == UNAVAILABLE:
        return None
    if retry and DOCUMENTED_4XX.get(response.status_code) == code:
        return None
    return f"{response.status_code} {code}: {error['message']}"


class MailIndex:
    """The SMTP sink's files, parsed once each: recipient -> [(Message-ID, code)]."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._seen: set[str] = set()
        self._by_recipient: dict[str, list[tuple[str, str]]] = {}
        self._lock = threading.Lock()

    def refresh(self) -> None:
        with self._lock:
            for path in message_files(self.directory):
                if path.name in self._seen:
                    continue
                message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                body = message.get_body(preferencelist=("plain",)).get_content()
                codes = CODE.findall(body)
                for recipient in message.get_all("Delivered-To") or []:
                    self._by_recipient.setdefault(recipient, []).append(
                        (str(message["Message-ID"]), codes[0] if codes else "")
                    )
                self._seen.add(path.name)

    def to(self, address: str) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._by_recipient.get(address, []))

    def wait_for_code(self, address: str, timeout: float, stop: threading.Event) -> str | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not stop.is_set():
            self.refresh()
            received = self.to(address)
            if received:
                return received[0][1]
            time.sleep(0.2)
        return None


# -- the load ----------------------------------------------------------------------------------


class Load:
    """WORKERS threads, each running user journeys through the edge until stopped."""

    def __init__(self, suite: Suite, ledger: Ledger, mail: MailIndex, seed: int) -> None:
        self.suite = suite
        self.ledger = ledger
        self.mail = mail
        self.seed = seed
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(WORKERS)]
        self.crashes: list[str] = []

    def __enter__(self) -> Self:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(REQUEST_TIMEOUT_SECONDS + CODE_WAIT_SECONDS)

    def _run(self, number: int) -> None:
        rng = random.Random(self.seed * 100 + number)
        with httpx.Client(base_url=self.suite.edge_url, timeout=REQUEST_TIMEOUT_SECONDS) as http:
            while not self.stop.is_set():
                try:
                    self._journey(http, rng)
                except Exception as exc:  # noqa: BLE001 - reported by the test, never silent
                    self.crashes.append(repr(exc))
                    time.sleep(0.5)

    def _call(
        self, http: httpx.Client, method: str, path: str, *, retry: bool = False, **kwargs
    ) -> httpx.Response | None:
        failure = ""
        try:
            response = http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            response, failure = None, "timeout"
        except httpx.TransportError:
            # No answer: the edge closed a kept-alive connection as the request went out. Like a
            # timeout the request is ambiguous; an edge that died shows in stack.check() below.
            response, failure = None, "disconnected"
        self.ledger.record(method, path, response, retry=retry, failure=failure)
        return response

    def _journey(self, http: httpx.Client, rng: random.Random) -> None:
        """Sign in a new address, write the profile and settings a few times, maybe delete."""
        ledger = self.ledger
        address = new_address("fault")
        sent = self._call(http, "POST", SEND, json={"email": address})
        if sent is None or sent.status_code != 200:
            with ledger.lock:
                ledger.ambiguous_sends.add(address)
            time.sleep(0.2)
            return
        challenge_id = sent.json()["challenge_id"]
        with ledger.lock:
            ledger.sends[address] = challenge_id
        code = self.mail.wait_for_code(address, CODE_WAIT_SECONDS, self.stop)
        if code is None:
            return  # counted as lost by the data check if it never arrives
        session_id = self._confirm(http, challenge_id, code)
        if session_id is None:
            return
        looked_up = self._until_answered(http, "GET", f"/api/v1/internal/sessions/{session_id}")
        if looked_up is None or looked_up.status_code != 200:
            return
        user_id = looked_up.json()["user_id"]
        user = {"X-User-ID": user_id}
        with ledger.lock:
            writes = ledger.writes.setdefault(user_id, [])
        for step in range(rng.randint(2, 4)):
            if rng.random() < 0.5:
                name, path, body = "display_name", PROFILE, {"display_name": f"Pilot {step} {uuid.uuid4().hex[:6]}"}
            else:
                zone = rng.choice(ZONES)
                name, path, body = "time_zone", SETTINGS, {"time_zone": zone}
            answer = self._call(http, "PATCH", path, headers=user, json=body)
            accepted = answer is not None and answer.status_code == 200
            writes.append((name, body[name], accepted))
            if answer is not None and 400 <= answer.status_code < 500:
                return  # never expected (recorded as a bad answer): the account is this journey's own
        if rng.random() < 0.5:
            deleted = self._call(http, "POST", DELETE, headers=user)
            if deleted is not None and deleted.status_code == 204:
                with ledger.lock:
                    ledger.deletions.add(user_id)
        with ledger.lock:
            ledger.journeys_completed += 1

    def _confirm(self, http: httpx.Client, challenge_id: str, code: str) -> str | None:
        body = {"challenge_id": challenge_id, "code": code, "client_public_key": public_key(),
                "time_zone": "Europe/Berlin"}
        answer = self._until_answered(http, "POST", CONFIRM, json=body, may_have_happened=True)
        if answer is None or answer.status_code != 200:
            return None
        session_id = answer.json()["device_session_id"]
        with self.ledger.lock:
            self.ledger.sessions[session_id] = challenge_id
        return session_id

    def _until_answered(
        self, http: httpx.Client, method: str, path: str, *, may_have_happened: bool = False, **kwargs
    ) -> httpx.Response | None:
        """Retry while the answer is 503 or a timeout (a client's retry), for at most RECOVERY_SECONDS.

        `may_have_happened`: a 503 may come after the request took effect (the service
        died after its commit), so a retry may be refused with a documented 4xx.
        """
        deadline = time.monotonic() + RECOVERY_SECONDS
        retry = False
        while True:
            answer = self._call(http, method, path, retry=retry and may_have_happened, **kwargs)
            if answer is not None and answer.status_code != 503:
                return answer
            if time.monotonic() > deadline or self.stop.is_set():
                return answer
            retry = True
            time.sleep(0.3)


# -- the data ----------------------------------------------------------------------------------


def events_in_flight(suite: Suite) -> int:
    """Lifecycle events account wrote that are not yet published or not yet applied by auth."""
    [(count,)] = query(
        suite,
        "SELECT count(*) FROM account.outbox o WHERE o.topic = 'galaxy.account.lifecycle.v1' "
        "AND NOT EXISTS (SELECT 1 FROM auth.inbox i WHERE i.event_id = o.event_id)",
    )
    return count


def unapplied_lifecycle_events(suite: Suite) -> int:
    """Lifecycle events account published (the broker acknowledged them) that auth has not applied."""
    [(count,)] = query(
        suite,
        "SELECT count(*) FROM account.outbox o WHERE o.published_at IS NOT NULL "
        "AND o.topic = 'galaxy.account.lifecycle.v1' "
        "AND NOT EXISTS (SELECT 1 FROM auth.inbox i WHERE i.event_id = o.event_id)",
    )
    return count


@dataclass
class Effects:
    lost: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    redelivered_mails: int = 0

    @property
    def settled(self) -> bool:
        return not self.lost and not self.doubled


def _delivery_id(message_id: str) -> str:
    """The delivery id in mail's `Message-ID: <delivery_id@domain>`."""
    return message_id.strip().strip("<>").partition("@")[0]


def check_effects(suite: Suite, ledger: Ledger, mail: MailIndex) -> Effects:
    """Every accepted request's effect present exactly once, read from the schemas and the mail files."""
    effects = Effects()
    mail.refresh()
    # One e-mail per accepted code request; never two Message-IDs for one request. A second
    # copy of the same message is mail's documented at-least-once after a worker died
    # mid-send (mail.md, "Several replicas"): tolerated only where mail's own attempts show
    # an abandoned attempt of that delivery.
    abandoned = {
        str(delivery_id)
        for (delivery_id,) in query(suite, "SELECT DISTINCT delivery_id FROM mail.attempts WHERE outcome = 'abandoned'")
    }
    for address in [*ledger.sends, *ledger.ambiguous_sends]:
        received = mail.to(address)
        message_ids = {message_id for message_id, _ in received}
        if address in ledger.sends and not message_ids:
            effects.lost.append(f"no e-mail for the accepted code request of {address}")
        if len(message_ids) > 1:
            effects.doubled.append(f"{address} got {len(message_ids)} different e-mails: {sorted(message_ids)}")
        for message_id in message_ids:
            copies = sum(1 for received_id, _ in received if received_id == message_id)
            if copies > 1 and _delivery_id(message_id) not in abandoned:
                effects.doubled.append(f"{address} got {copies} copies of {message_id} without a crash mid-send")
            effects.redelivered_mails += copies - 1

    # Mail's own record: one delivery per accepted code request, under the challenge id as
    # idempotency key (docs/auth.md), and one per address (each request used a new address).
    keys = {key for (key,) in query(suite, "SELECT idempotency_key FROM mail.deliveries")}
    for address, challenge_id in ledger.sends.items():
        if challenge_id not in keys:
            effects.lost.append(f"mail has no delivery for the accepted code request {challenge_id}")
    for recipient, deliveries in query(
        suite, "SELECT recipient, count(*) FROM mail.deliveries GROUP BY recipient HAVING count(*) > 1"
    ):
        if recipient in ledger.sends or recipient in ledger.ambiguous_sends:
            effects.doubled.append(f"mail holds {deliveries} deliveries for the one code request of {recipient}")

    # Every accepted confirmation has its session.
    stored = dict(query(suite, "SELECT device_session_id::text, challenge_id::text FROM auth.device_sessions"))
    for session_id, challenge_id in ledger.sessions.items():
        if stored.get(session_id) != challenge_id:
            effects.lost.append(f"device session {session_id} of an accepted confirmation is not stored")

    # Every accepted write is the stored value, unless a write that got no answer (503 or a
    # timeout) replaced it: one after it, or an earlier one that a frozen account applied
    # only once it thawed, after the edge had given up on it (gRPC deadlines do not recall
    # work already under way).
    accounts = {
        str(user_id): (display_name, time_zone, deleted_at)
        for user_id, display_name, time_zone, deleted_at in query(
            suite, "SELECT user_id, display_name, time_zone, deleted_at FROM account.accounts"
        )
    }
    for user_id, writes in ledger.writes.items():
        for column, position in (("display_name", 0), ("time_zone", 1)):
            sent = [(value, accepted) for name, value, accepted in writes if name == column]
            accepted_at = [i for i, (_, accepted) in enumerate(sent) if accepted]
            if not accepted_at:
                continue
            possible = {sent[accepted_at[-1]][0]} | {value for value, accepted in sent if not accepted}
            stored_value = accounts.get(user_id, (None, None, None))[position]
            if stored_value not in possible:
                effects.lost.append(f"{column} of {user_id} is {stored_value!r}, accepted {sent[accepted_at[-1]][0]!r}")

    # Deletions: the account is deleted, its lifecycle event applied once, each session revoked once.
    events = query(
        suite,
        "SELECT o.key, o.event_id, count(i.event_id) FROM account.outbox o "
        "LEFT JOIN auth.inbox i ON i.event_id = o.event_id "
        "WHERE o.topic = 'galaxy.account.lifecycle.v1' GROUP BY o.key, o.event_id",
    )
    events_of: dict[str, list[tuple[uuid.UUID, int]]] = {}
    for key, event_id, applied in events:
        events_of.setdefault(key, []).append((event_id, applied))
        if applied > 1:
            effects.doubled.append(f"lifecycle event {event_id} applied {applied} times")
    revocations = query(
        suite,
        "SELECT s.user_id::text, s.device_session_id, s.status, count(r.revocation_id) "
        "FROM auth.device_sessions s LEFT JOIN auth.session_revocations r USING (device_session_id) "
        "GROUP BY s.user_id, s.device_session_id, s.status",
    )
    sessions_of: dict[str, list[tuple[uuid.UUID, str, int]]] = {}
    for user_id, session_id, status, count in revocations:
        sessions_of.setdefault(user_id, []).append((session_id, status, count))
        if count > 1:
            effects.doubled.append(f"session {session_id} revoked {count} times")
    deleted_users = {user_id for user_id, (_, _, deleted_at) in accounts.items() if deleted_at is not None}
    for user_id in ledger.deletions:
        if user_id not in deleted_users:
            effects.lost.append(f"the accepted deletion of {user_id} is not stored")
    for user_id in ledger.deletions | deleted_users:
        user_events = events_of.get(user_id, [])
        if len(user_events) != 1:
            effects.doubled.append(f"{user_id} has {len(user_events)} lifecycle events") if user_events else \
                effects.lost.append(f"the deletion of {user_id} wrote no lifecycle event")
            continue
        [(event_id, applied)] = user_events
        if applied == 0:
            effects.lost.append(f"the lifecycle event {event_id} of {user_id} was not applied by auth")
        for session_id, status, count in sessions_of.get(user_id, []):
            if status != "revoked" or count == 0:
                effects.lost.append(f"session {session_id} of deleted user {user_id} is not revoked")
    return effects


# -- the test ----------------------------------------------------------------------------------


def wait_for(check: Callable[[], bool], timeout: float, interval: float = 0.5) -> float | None:
    """Seconds until `check()` held, or None when it did not within `timeout`."""
    begun = time.monotonic()
    while time.monotonic() - begun < timeout:
        if check():
            return time.monotonic() - begun
        time.sleep(interval)
    return None


def answers_unavailable(http: httpx.Client, method: str, path: str, **kwargs) -> None:
    """While a service is down, a request that needs it is refused with 503 in the envelope."""
    answer = http.request(method, path, **kwargs)
    assert answer.status_code == 503, (method, path, answer.status_code, answer.text)
    assert answer.json()["error"]["code"] == "service_unavailable", answer.text


def restore(suite: Suite) -> None:
    """Bring back whatever a failed test left down or frozen, so the next test finds a whole suite."""
    if suite.postgres is not None and not suite.postgres.server_pid():
        suite.start_postgres()
    if suite.broker is not None and not suite.broker.running():
        suite.start_broker()
    for name in PROCESSES:
        if suite.stack.running(name):
            suite.resume(name)
        else:
            suite.restart(name)


def accepts_a_code_request(http: httpx.Client, ledger: Ledger) -> None:
    """With mail down or frozen, a code request is still accepted at once (auth queues the
    code on its side); the effects check then wants its e-mail, once, after mail is back."""
    address = new_address("mail-down")
    sent = http.post(SEND, json={"email": address})
    assert sent.status_code == 200, ("a code request while mail is down", sent.status_code, sent.text)
    with ledger.lock:
        ledger.sends[address] = sent.json()["challenge_id"]


def signs_in(http: httpx.Client, mail: MailIndex) -> bool:
    """One whole sign-in succeeds now (send, e-mail, confirm)."""
    address = new_address("probe")
    try:
        sent = http.post(SEND, json={"email": address})
        if sent.status_code != 200:
            return False
        code = mail.wait_for_code(address, 20.0, threading.Event())
        if code is None:
            return False
        confirmed = http.post(CONFIRM, json={"challenge_id": sent.json()["challenge_id"], "code": code,
                                             "client_public_key": public_key(), "time_zone": "UTC"})
        return confirmed.status_code == 200
    except httpx.HTTPError:
        return False


def test_crashes_and_restarts_under_load_lose_and_double_nothing(private_suite, tmp_path):
    suite = private_suite
    ledger = Ledger()
    mail = MailIndex(suite.mail_dir)
    faults: list[dict] = []
    seed = random.randrange(1 << 30)
    some_user = None

    with httpx.Client(base_url=suite.edge_url, timeout=REQUEST_TIMEOUT_SECONDS) as probe:
        assert signs_in(probe, mail)
        with Load(suite, ledger, mail, seed) as load:
            time.sleep(SETTLE_SECONDS)
            some_user = next(iter(ledger.writes), str(uuid.uuid4()))

            # Each service crashes while requests that need it are in flight; while it is
            # down the edge refuses what needs it with 503; then it comes back on its port.
            probes = {
                "auth": ("GET", f"/api/v1/internal/sessions/{uuid.uuid4()}", {}),
                "account": ("GET", "/api/v1/user/account", {"headers": {"X-User-ID": some_user}}),
                "mail": ("GET", "/api/v1/admin/mail/deliveries", {"auth": suite.admin_auth}),
            }
            def recovered(fault: dict) -> None:
                """Before the next fault: a whole sign-in succeeds again, within a bound."""
                took = wait_for(lambda: signs_in(probe, mail), RECOVERY_SECONDS)
                fault["sign_in_again_after_seconds"] = None if took is None else round(took, 1)
                faults.append(fault)
                assert took is not None, f"no sign-in succeeded within {RECOVERY_SECONDS} s after: {fault}"
                time.sleep(SETTLE_SECONDS)

            try:
                for service in ("auth", "account", "mail"):
                    begun = time.monotonic()
                    suite.kill(service)
                    method, path, kwargs = probes[service]
                    answers_unavailable(probe, method, path, **kwargs)
                    if service == "mail":
                        accepts_a_code_request(probe, ledger)
                    time.sleep(DOWN_SECONDS)
                    answers_unavailable(probe, method, path, **kwargs)
                    restarted = time.monotonic()
                    suite.restart(service)
                    recovered({"fault": f"SIGKILL {service}", "down_seconds": round(restarted - begun, 1),
                               "restart_seconds": round(time.monotonic() - restarted, 1)})

                # A frozen mail keeps its port but answers nothing: calls to it run into their
                # deadlines, and auth's queue keeps the codes until mail thaws.
                begun = time.monotonic()
                with suite.paused("mail"):
                    accepts_a_code_request(probe, ledger)
                    time.sleep(DOWN_SECONDS)
                recovered({"fault": "SIGSTOP/SIGCONT mail", "down_seconds": round(time.monotonic() - begun, 1)})

                # The broker loses everything it held; the relays recreate topics and publish
                # again, consumers rejoin. Tansu's memory storage also loses records it
                # acknowledged but no consumer has read yet, which no producer can prevent
                # (outbox.py): so account, the producer, is frozen first and auth left to apply
                # what was published (deletions keep being requested: they wait, then go out to
                # the new broker).
                begun = time.monotonic()
                with suite.paused("account"):
                    drained = wait_for(lambda: unapplied_lifecycle_events(suite) == 0, RECOVERY_SECONDS)
                    assert drained is not None, "auth did not apply the published lifecycle events"
                    suite.kill_broker()
                    time.sleep(DOWN_SECONDS)
                    suite.start_broker()
                back = time.monotonic()
                flowing = wait_for(lambda: events_in_flight(suite) == 0, RECOVERY_SECONDS)
                assert flowing is not None, f"lifecycle events did not flow within {RECOVERY_SECONDS} s"
                recovered({"fault": "SIGKILL broker (memory storage lost)", "down_seconds": round(back - begun, 1),
                           "events_flow_again_after_seconds": round(flowing, 1)})

                # PostgreSQL crashes: every connection of every service is cut.
                begun = time.monotonic()
                suite.kill_postgres()
                time.sleep(DOWN_SECONDS)
                suite.start_postgres()
                recovered({"fault": "crash-stop PostgreSQL", "down_seconds": round(time.monotonic() - begun, 1)})
            finally:
                restore(suite)
        crashes = list(load.crashes)

    # Nothing died for good: every process still runs.
    assert suite.stack.check() == []
    converged = wait_for(lambda: check_effects(suite, ledger, mail).settled, CONVERGENCE_SECONDS, 2.0)
    effects = check_effects(suite, ledger, mail)

    figures = {
        "seed": seed,
        "requests": ledger.requests,
        "answers": {str(k): v for k, v in sorted(ledger.statuses.items(), key=str)},
        "faults_injected": len(faults),
        "faults": faults,
        "errors_seen": ledger.errors,
        "bad_answers": len(ledger.bad_answers),
        "accepted": {"code_requests": len(ledger.sends), "confirmations": len(ledger.sessions),
                     "writes": sum(a for w in ledger.writes.values() for *_, a in w),
                     "deletions": len(ledger.deletions)},
        "journeys_completed": ledger.journeys_completed,
        "effects_lost": len(effects.lost),
        "effects_doubled": len(effects.doubled),
        "mails_redelivered_after_a_crash": effects.redelivered_mails,
        "converged_after_seconds": None if converged is None else round(converged, 1),
        "load_crashes": crashes,
        "lost": effects.lost[:20],
        "doubled": effects.doubled[:20],
        "bad_answer_samples": ledger.bad_answers[:20],
        "state_dir": str(suite.stack.state_dir),
    }
    path = tmp_path / "fault-figures.json"
    path.write_text(json.dumps(figures, indent=2) + "\n")
    print("\nfault test figures:", json.dumps(figures, indent=2), f"\n(written to {path})")

    assert not crashes, crashes
    assert not ledger.bad_answers, ledger.bad_answers[:20]
    assert effects.lost == [], effects.lost[:20]
    assert effects.doubled == [], effects.doubled[:20]
    # The load really ran through every fault and came out the other side.
    assert len(ledger.sends) >= 10 and len(ledger.deletions) >= 2, figures


def test_a_frozen_service_still_stops_on_sigterm_and_comes_back(private_suite):
    """A process left paused (SIGSTOP) by a test is resumed by the stop, so SIGTERM is handled
    (exit 0), not left pending until the SIGKILL after the stop timeout."""
    suite = private_suite
    suite.pause("geo")
    exit_code = suite.stack.stop_process("geo", timeout=20.0)
    try:
        assert exit_code == 0, f"geo exited {exit_code}: the SIGTERM was not delivered to the frozen process"
    finally:
        suite.restart("geo")
    with httpx.Client(base_url=suite.edge_url, timeout=REQUEST_TIMEOUT_SECONDS) as http:
        ready = wait_for(lambda: http.get("/readyz").status_code == 200, RECOVERY_SECONDS)
    assert ready is not None, "the edge does not report ready after geo came back"
