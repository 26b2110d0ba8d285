"""No consumer: attempts, dead letters and e-mail; an account's deletion drops its pending ones."""

from __future__ import annotations

import asyncio
import uuid

from galaxy.mail.v1 import mail_pb2
from galaxy.notify.v1 import notify_pb2
from galaxy_kit.events.testing import wait_until
from notify_helpers import intent

INVITE = {"game_name": "Andromeda", "race_name": "Zorgons", "expires_at": "2030-01-01T00:00:00Z"}


def invite(user: str):
    return intent(user, kind="lobby.invite.received", params={
        "game_id": str(uuid.uuid4()), "invite_id": str(uuid.uuid4()), "inviter_user_id": str(uuid.uuid4()),
        **INVITE})


async def _dead_letters(notify) -> dict[str, notify_pb2.NotificationDeadLetter]:
    reply = await notify.stub.AdminNotificationsListDeadLetters(
        notify_pb2.AdminNotificationsListDeadLettersRequest(page=1, page_size=200))
    return {d.notification_id: d for d in reply.items}


async def _mail_keys(notify) -> dict[str, mail_pb2.MailDelivery]:
    reply = await notify.mail.AdminMailListDeliveries(mail_pb2.AdminMailListDeliveriesRequest(page=1, page_size=200))
    return {d.idempotency_key: d for d in reply.items}


async def _stored(notify, user: str, intent_id: str) -> str:
    async def found() -> bool:
        return any(n.idempotency_key == intent_id for n in await notify.of_user(user))
    await wait_until(found, timeout=30, what="the notification")
    return next(n.notification_id for n in await notify.of_user(user) if n.idempotency_key == intent_id)


async def test_without_a_consumer_a_notification_is_retried_then_dead_lettered_and_emailed(notify_factory):
    # 3 attempts, 0.5 s then 1 s apart (notify_helpers.notify_settings).
    async with notify_factory() as notify:
        user = await notify.user()
        mailed, push_only = invite(user), intent(user)  # an invitation deserves an e-mail, a pause does not
        await notify.publish(mailed, push_only)
        mailed_id = await _stored(notify, user, mailed.intent_id)
        push_only_id = await _stored(notify, user, push_only.intent_id)

        async def both_dead() -> bool:
            return {mailed_id, push_only_id} <= set(await _dead_letters(notify))
        await wait_until(both_dead, timeout=30, what="two dead letters")
        dead = await _dead_letters(notify)
        assert dead[mailed_id].reason == "no push consumer connected after 3 attempts"

        deliveries = await _mail_keys(notify)
        assert deliveries[f"notify:{mailed_id}"].template_id == "notify.invite_received"
        assert f"notify:{push_only_id}" not in deliveries
        # Emailed once, whatever the number of attempts.
        assert sum(1 for key in deliveries if key == f"notify:{mailed_id}") == 1

        # A consumer arriving later is not flooded with what was given up.
        late = notify.subscribe(f"gateway-{uuid.uuid4().hex[:6]}")
        fresh = intent(user)
        await notify.publish(fresh)
        fresh_id = await _stored(notify, user, fresh.intent_id)
        await wait_until(lambda: fresh_id in late.ids, timeout=15, what="the fresh push")
        assert mailed_id not in late.ids and push_only_id not in late.ids


async def test_with_a_consumer_connected_a_notification_is_delivered_and_never_dead(notify_factory):
    async with notify_factory() as notify:
        user = await notify.user()
        stream = notify.subscribe(f"gateway-{uuid.uuid4().hex[:6]}")
        message = invite(user)
        await notify.publish(message)
        notification_id = await _stored(notify, user, message.intent_id)
        await wait_until(lambda: notification_id in stream.ids, timeout=15, what="the push")
        await asyncio.sleep(3.0)  # past every retry of the test settings
        assert notification_id not in await _dead_letters(notify)
        assert f"notify:{notification_id}" not in await _mail_keys(notify)


async def test_an_account_deletion_drops_its_pending_notifications_once(notify_factory):
    async with notify_factory(notify_push_max_attempts=1000) as notify:
        gone, stays = await notify.user("gone"), await notify.user("stays")
        delivered = intent(gone)
        stream = notify.subscribe(f"gateway-{uuid.uuid4().hex[:6]}")
        await notify.publish(delivered)
        delivered_id = await _stored(notify, gone, delivered.intent_id)
        await wait_until(lambda: delivered_id in stream.ids, timeout=15, what="the push")
        await stream.close()

        pending = [intent(gone), intent(gone)]
        kept = intent(stays)
        await notify.publish(*pending, kept)
        for message in pending:
            await _stored(notify, gone, message.intent_id)
        await _stored(notify, stays, kept.intent_id)

        event_id = uuid.uuid4()
        await notify.delete_account(gone, event_id=event_id)

        async def dropped() -> bool:
            return [n.notification_id for n in await notify.of_user(gone)] == [delivered_id]
        await wait_until(dropped, timeout=30, what="the pending notifications dropped")
        assert [n.idempotency_key for n in await notify.of_user(stays)] == [kept.intent_id]

        # The same event again (a redelivery) changes nothing more; a later intent is stored.
        later = intent(gone)
        await notify.delete_account(gone, event_id=event_id)
        await notify.publish(later)
        await _stored(notify, gone, later.intent_id)
        await asyncio.sleep(2.0)  # the redelivered event is consumed by now; it must not drop `later`
        assert {n.idempotency_key for n in await notify.of_user(gone)} == {delivered.intent_id, later.intent_id}


async def test_retention_deletes_old_finished_notifications_and_keeps_pending_ones(notify_factory):
    import sqlalchemy as sa
    from galaxy_kit.db import create_engine

    async with notify_factory(retention_interval_seconds=0.5, notify_push_max_attempts=1000) as notify:
        user = await notify.user()
        delivered, pending = intent(user), intent(user)
        stream = notify.subscribe(f"gateway-{uuid.uuid4().hex[:6]}")
        await notify.publish(delivered)
        delivered_id = await _stored(notify, user, delivered.intent_id)
        await wait_until(lambda: delivered_id in stream.ids, timeout=15, what="the push")
        await stream.close()
        await notify.publish(pending)
        await _stored(notify, user, pending.intent_id)

        engine = create_engine(notify.dsn)
        try:
            async with engine.begin() as connection:
                await connection.execute(sa.text(
                    "UPDATE notify.notifications SET created_at = now() - interval '31 days' WHERE user_id = :u"),
                    {"u": uuid.UUID(user)})
        finally:
            await engine.dispose()

        async def pruned() -> bool:
            return [n.idempotency_key for n in await notify.of_user(user)] == [pending.intent_id]
        await wait_until(pruned, timeout=30, what="the delivered notification pruned, the pending one kept")
