"""The RAG badge: the letter always, colour only as a second cue (never colour alone)."""

from __future__ import annotations

from rich.text import Text

from caseload.measures.rag import Rag

# Letter, then colour; under NO_COLOR the letter is what is left, and it is enough.
BADGE_STYLES = {
    "R": "bold #ffffff on #b3261e",
    "A": "bold #000000 on #ffb300",
    "G": "bold #000000 on #3fa34d",
}
UNRATED = "–"


def rag_word(rating: str | None) -> str:
    return Rag(rating).word if rating in BADGE_STYLES else "not rated"


def rag_badge(rating: str | None) -> Text:
    """` R `, ` A `, ` G ` on their colours; an unrated claim shows a dash, not a blank."""
    if rating not in BADGE_STYLES:
        return Text(f" {UNRATED} ", style="dim", justify="center")
    return Text(f" {rating} ", style=BADGE_STYLES[rating], justify="center")
