"""Notification sinks deliver to a real local HTTP server and a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

from datetime import UTC, datetime

from retail_lakehouse.config.models import EmailSinkSettings, OpsSettings, WebhookSinkSettings
from retail_lakehouse.ops.alerts import Alert, AlertChange
from retail_lakehouse.ops.notify import EmailSink, WebhookSink, alert_sinks
from tests.ops_servers import http_recorder, smtp_recorder

OPENED = AlertChange(
    Alert(
        alert_id="a1",
        kind="dq_score",
        subject="silver/customers",
        severity="warning",
        message="DQ score of silver/customers is 0.9100; threshold 0.95",
        opened_at=datetime(2026, 3, 1, 6, 5, tzinfo=UTC),
        cleared_at=None,
        run_id="run-7",
        value=0.91,
        threshold=0.95,
    ),
    opened=True,
)


def test_webhooks_in_slack_teams_and_json_formats() -> None:
    with http_recorder() as server:
        for fmt in ("slack", "teams", "json"):
            sink = WebhookSink(fmt, WebhookSinkSettings(kind="webhook", url=f"{server.url}/{fmt}", format=fmt), "prod")
            sink.alert_changed(OPENED)
    slack, teams, plain = server.posts
    assert slack.path == "/slack" and slack.headers["Content-Type"] == "application/json"
    assert slack.json() == {
        "text": "*[prod] WARNING alert opened: dq_score silver/customers*\n"
        "DQ score of silver/customers is 0.9100; threshold 0.95\nopened at 2026-03-01T06:05:00+00:00\nrun run-7"
    }
    (attachment,) = teams.json()["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"]["type"] == "AdaptiveCard"
    assert attachment["content"]["body"][0]["text"] == "[prod] WARNING alert opened: dq_score silver/customers"
    assert plain.json()["subject"] == "silver/customers" and plain.json()["value"] == 0.91
    assert plain.json()["event"] == "opened" and plain.json()["cleared_at"] is None


def test_a_webhook_that_fails_is_logged_and_the_run_goes_on() -> None:
    with http_recorder(status=500) as server:
        WebhookSink("x", WebhookSinkSettings(kind="webhook", url=server.url), "dev").alert_changed(OPENED)
    assert len(server.posts) == 3  # three attempts, then a warning; nothing raised


def test_e_mail_over_smtp() -> None:
    with smtp_recorder() as smtp:
        settings = EmailSinkSettings.model_validate(
            {
                "kind": "email",
                "smtp_host": smtp.host,
                "smtp_port": smtp.port,
                "starttls": False,
                "from": "lakehouse@example.com",
                "to": ["ops@example.com", "data@example.com"],
            }
        )
        EmailSink("ops", settings, "prod").alert_changed(OPENED)
    (message,) = smtp.messages
    assert message["Subject"] == "[prod] WARNING alert opened: dq_score silver/customers"
    assert message["To"] == "ops@example.com, data@example.com"
    assert "DQ score of silver/customers is 0.9100" in message.get_payload()


def test_sinks_from_configuration() -> None:
    ops = OpsSettings.model_validate(
        {
            "notifications": {
                "teams": {"kind": "webhook", "format": "teams", "url": "http://127.0.0.1:9/hook"},
                "mail": {"kind": "email", "smtp_host": "h", "from": "a@b.c", "to": ["d@e.f"]},
                "monitor": {"kind": "azure_monitor", "connection_string": "InstrumentationKey=x"},
            }
        }
    )
    assert [type(sink).__name__ for sink in alert_sinks(ops.notifications, "dev")] == ["WebhookSink", "EmailSink"]
