"""Notification sinks: each alert that opens or clears goes to a webhook (Slack, Teams or plain JSON) or by
e-mail over SMTP. A sink that cannot deliver logs why and the run goes on (the alert stays in `_ops/alerts`).
"""

from __future__ import annotations

import json
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from typing import Any

from retail_lakehouse.config.models import EmailSinkSettings, NotificationSettings, WebhookSinkSettings
from retail_lakehouse.ops.alerts import AlertChange, AlertListener
from retail_lakehouse.runtime.logging import get_logger

log = get_logger("notify")

DELIVERY_ATTEMPTS = 3


def headline(change: AlertChange, env: str) -> str:
    alert = change.alert
    state = "opened" if change.opened else "cleared"
    return f"[{env}] {alert.severity.upper()} alert {state}: {alert.kind} {alert.subject}"


def body(change: AlertChange) -> str:
    alert = change.alert
    lines = [alert.message, f"opened at {alert.opened_at.isoformat(timespec='seconds')}"]
    if not change.opened and alert.cleared_at is not None:
        lines.append(f"cleared at {alert.cleared_at.isoformat(timespec='seconds')}: {change.clearing}")
    if alert.run_id:
        lines.append(f"run {alert.run_id}")
    return "\n".join(lines)


def alert_fields(change: AlertChange, env: str) -> dict[str, Any]:
    alert = change.alert
    return {
        "event": "opened" if change.opened else "cleared",
        "env": env,
        "alert_id": alert.alert_id,
        "kind": alert.kind,
        "subject": alert.subject,
        "severity": alert.severity,
        "message": alert.message,
        "opened_at": alert.opened_at.isoformat(),
        "cleared_at": alert.cleared_at.isoformat() if alert.cleared_at else None,
        "run_id": alert.run_id,
        "value": alert.value,
        "threshold": alert.threshold,
    }


def webhook_payload(change: AlertChange, env: str, message_format: str) -> dict[str, Any]:
    """Slack: `text` (mrkdwn); Teams: a message with one Adaptive Card, as a Teams Workflows "post to a
    channel when a webhook request is received" flow takes it; json: the alert's fields."""
    if message_format == "slack":
        return {"text": f"*{headline(change, env)}*\n{body(change)}"}
    if message_format == "teams":
        color = "Attention" if change.opened and change.alert.severity == "critical" else "Default"
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [
                {"type": "TextBlock", "text": headline(change, env), "weight": "Bolder", "color": color, "wrap": True},
                {"type": "TextBlock", "text": body(change).replace("\n", "\n\n"), "wrap": True},
            ],
        }
        return {
            "type": "message",
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
        }
    return alert_fields(change, env)


def _deliver(describe: str, send: Callable[[], None], pause_seconds: float = 1.0) -> bool:
    for attempt in range(1, DELIVERY_ATTEMPTS + 1):
        try:
            send()
            return True
        except (OSError, smtplib.SMTPException, urllib.error.URLError) as exc:
            if attempt == DELIVERY_ATTEMPTS:
                log.warning("could not notify %s after %d attempts: %s", describe, attempt, exc)
                return False
            time.sleep(pause_seconds * attempt)
    return False


class WebhookSink(AlertListener):
    def __init__(self, name: str, settings: WebhookSinkSettings, env: str) -> None:
        self.name = name
        self.settings = settings
        self.env = env

    def alert_changed(self, change: AlertChange) -> None:
        payload = json.dumps(webhook_payload(change, self.env, self.settings.format)).encode()
        request = urllib.request.Request(
            self.settings.url, data=payload, method="POST", headers={"Content-Type": "application/json"}
        )

        def send() -> None:
            with urllib.request.urlopen(request, timeout=self.settings.timeout_seconds) as response:
                response.read()

        # The URL carries the webhook's token: name the sink, never the URL.
        _deliver(f"webhook {self.name}", send)


class EmailSink(AlertListener):
    def __init__(self, name: str, settings: EmailSinkSettings, env: str) -> None:
        self.name = name
        self.settings = settings
        self.env = env

    def message(self, change: AlertChange) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = headline(change, self.env)
        message["From"] = self.settings.sender
        message["To"] = ", ".join(self.settings.recipients)
        message.set_content(body(change) + "\n\n" + json.dumps(alert_fields(change, self.env), indent=2) + "\n")
        return message

    def alert_changed(self, change: AlertChange) -> None:
        settings = self.settings
        message = self.message(change)

        def send() -> None:
            with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.timeout_seconds) as smtp:
                if settings.starttls:
                    smtp.starttls()
                if settings.username:
                    smtp.login(settings.username, settings.password or "")
                smtp.send_message(message)

        _deliver(f"e-mail sink {self.name} ({settings.smtp_host}:{settings.smtp_port})", send)


def alert_sinks(notifications: Mapping[str, NotificationSettings], env: str) -> list[AlertListener]:
    """The sinks alerts go to (Azure Monitor takes metrics: see ops.telemetry)."""
    sinks: list[AlertListener] = []
    for name, settings in notifications.items():
        if isinstance(settings, WebhookSinkSettings):
            sinks.append(WebhookSink(name, settings, env))
        elif isinstance(settings, EmailSinkSettings):
            sinks.append(EmailSink(name, settings, env))
    return sinks
