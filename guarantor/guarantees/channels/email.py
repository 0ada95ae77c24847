"""`email`: one message a notice over SMTP, with STARTTLS and a login where the server wants them."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Literal

from pydantic import Field

from guarantor.guarantees.channels.base import ChannelSpec, DeliveryFailed, Notice, register
from guarantor.guarantees.sources.base import reveal
from guarantor.guarantees.spec import Secret


class EmailChannel(ChannelSpec):
    type: Literal["email"]
    host: str
    port: int = 25
    starttls: bool = False
    username: Secret | None = None
    password: Secret | None = None
    sender: str
    to: list[str] = Field(min_length=1)


@register("email", EmailChannel)
def send(channel: EmailChannel, notice: Notice) -> None:
    message = EmailMessage()
    message["Subject"] = f"[Guarantor] {notice.status}: {notice.title}"
    message["From"] = channel.sender
    message["To"] = ", ".join(channel.to)
    message.set_content(notice.text() + "\n")
    try:
        with smtplib.SMTP(channel.host, channel.port, timeout=channel.timeout.total_seconds()) as smtp:
            if channel.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if channel.username is not None and channel.password is not None:
                smtp.login(reveal(channel.username), reveal(channel.password))
            smtp.send_message(message)
    except OSError as exc:  # smtplib's errors are OSErrors
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
