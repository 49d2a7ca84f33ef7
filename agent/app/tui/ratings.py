"""Rating agent replies in the chat app: `+` / `-` on a focused reply saves 👍 / 👎 with the conversation, for
`hotel-agent feedback export` to collect (agent.app.feedback)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.app.tui.transcript import RATING_MARK, AgentMessage

if TYPE_CHECKING:
    from agent.app.tui.app import HotelAgentApp


def rate_reply(app: HotelAgentApp, rated: AgentMessage.Rated) -> bool:
    """Save the rating of a reply in the conversation; False (nothing saved) for a reply that is not in it:
    still streaming, or from before /reset."""
    target = rated.agent_message
    if target.turn is None:
        return False
    try:
        app.conversation = app.conversation.with_rating(target.turn, rated.rating)
    except ValueError:
        return False
    target.set_rating(rated.rating)
    app.save_conversation()
    app.notify(f"rated {RATING_MARK[rated.rating]} — `hotel-agent feedback export` collects it")
    return True
