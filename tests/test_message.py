"""The message record: read once at the top of the coach, and what the later stages read instead of the text."""

from __future__ import annotations

import numpy as np

from assistant.coaching.understanding import ConversationState
from assistant.runtime import Runtime
from assistant.understanding.message import read_message


def test_the_record_holds_the_readable_text_its_vector_and_its_parse(rt: Runtime) -> None:
    raw = "Dana <b>talked over</b> the new analyst in Monday's planning meeting. ![x](http://example.com/a.png)"
    message = read_message(raw, rt.embedder)
    assert message.raw == raw
    assert message.text == "Dana talked over the new analyst in Monday's planning meeting."
    assert np.allclose(message.vector, rt.embedder.embed([message.text])[0])
    assert message.encoder == rt.embedder.name
    assert message.details.name == "Dana"
    assert message.english


def test_a_vector_is_offered_only_for_its_own_text_and_encoder(rt: Runtime) -> None:
    message = read_message("My mentee keeps missing deadlines.", rt.embedder)
    assert message.vector_for(message.text, rt.embedder.name) is message.vector
    assert message.vector_for("a rewritten query", rt.embedder.name) is None
    assert message.vector_for(message.text, "another-encoder") is None


def test_the_situation_is_read_from_the_records_vector_not_encoded_again(rt: Runtime) -> None:
    """A record whose vector belongs to another message is matched by that vector: the text is not re-encoded."""
    understanding = rt.understanding
    deadlines = understanding.message("My mentee keeps missing her deadlines and the team is covering for her.")
    tears = understanding.message("My mentee burst into tears in our session and I froze.")
    swapped = type(deadlines)(
        deadlines.raw, deadlines.text, tears.vector, deadlines.encoder, deadlines.parse, deadlines.english
    )
    reading = understanding.read(swapped, ConversationState())
    assert reading.message is swapped
    assert reading.matches.similarity == understanding.matcher.match(tears.text).similarity
    assert reading.matches.similarity != understanding.matcher.match(deadlines.text).similarity
