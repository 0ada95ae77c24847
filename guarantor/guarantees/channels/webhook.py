"""`webhook`: POST the notice as JSON, or as Slack's ``{"text": …}`` (Slack, Mattermost, Teams
workflows and most chat tools take that form)."""

from __future__ import annotations

from typing import Literal

import httpx

from guarantor.guarantees.channels.base import ChannelSpec, DeliveryFailed, Notice, register
from guarantor.guarantees.sources.base import reveal
from guarantor.guarantees.spec import Secret


class WebhookChannel(ChannelSpec):
    type: Literal["webhook"]
    url: Secret
    format: Literal["json", "slack"] = "json"


@register("webhook", WebhookChannel)
def send(channel: WebhookChannel, notice: Notice) -> None:
    body = {"text": notice.text()} if channel.format == "slack" else notice.model_dump(mode="json")
    try:
        response = httpx.post(reveal(channel.url), json=body, timeout=channel.timeout.total_seconds())
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
