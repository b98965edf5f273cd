"""Who is who in a mentor's message: named people, people by role ("my mentee", "one of them"), pronouns, the
mentor, and which of them the mentor will talk to (the mentee).

Everything starts from spaCy's parse. The small English model misses many names from outside its training data
(it tags "Priyanka" as nothing and "Siobhan" as an organisation), so a proper noun, or a capitalised word that is
not an English word, counts as a name only where the sentence uses it as a person: the subject of a verb, a
possessor, a name in apposition to a role, or the one the mentor gives feedback to. "Growth has been slow" (an
English word) and "What do you know about Zoom?" (no person's role) therefore name nobody.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spacy.tokens import Doc, Span, Token

from assistant.understanding.model import known_words

MASC = {"he", "him", "his", "himself"}
FEM = {"she", "her", "hers", "herself"}
# fmt: off
MENTOR_WORDS = {
    "i", "me", "my", "myself", "mine", "we", "us", "our", "ours", "ourselves",
}
# fmt: on
# "We only ever talk over Teams": how they talk, not who listens. Not "at" or "on": the parser can hang a name on
# them ("At Tuesday's stand-up Nadia told…").
MEDIUM_PREPOSITIONS = {"over", "via", "through"}
# Nouns for a single person at work; a pronoun may point at any of them, so they must be candidates too.
# fmt: off
PERSON_NOUNS = {
    "mentee", "report", "intern", "apprentice", "analyst", "engineer", "developer", "designer", "tester", "nurse",
    "doctor", "colleague", "teammate", "hire", "starter", "employee", "trainee", "assistant", "registrar",
    "coordinator", "teacher", "student", "volunteer", "customer", "client", "patient", "director", "manager",
    "boss", "auditor", "supplier", "guy", "man", "woman", "girl", "boy", "lady", "person", "someone", "parent",
    "lead", "cashier", "chef", "cook", "driver", "electrician", "technician", "consultant", "associate", "member",
    "worker", "supervisor", "officer", "agent", "rep", "founder", "ceo", "cfo", "cto", "head", "resident",
    # people met outside the team, whose "he" or "she" must not fall to the mentee by default
    "landlord", "landlady", "tenant", "visitor", "guest", "sponsor", "buyer", "seller", "vendor",
    "candidate", "applicant", "passenger", "caller", "shopper", "relative", "friend", "neighbour", "neighbor",
    "partner", "stakeholder", "investor", "interviewer", "recruiter", "architect", "owner", "landowner", "pm",
    "receptionist", "secretary", "administrator", "admin", "warden", "inspector", "examiner", "judge", "lawyer",
    "accountant", "pharmacist", "surgeon", "physician", "paramedic", "carer", "therapist", "counsellor",
    "counselor", "pupil", "graduate", "learner", "tutor", "lecturer", "professor", "trainer",
    "chair", "chairman", "chairwoman", "president", "vp", "executive", "exec", "principal", "headteacher", "dean",
    "fitter", "plumber", "builder", "labourer", "laborer", "mechanic", "pilot", "courier", "cleaner", "waiter",
    "waitress", "bartender", "server", "host", "hostess", "clerk", "teller", "salesperson", "salesman",
    "journalist", "reporter", "researcher", "scientist", "programmer", "coder", "operator", "handler",
    "father", "mother", "dad", "mum", "mom", "son", "daughter", "brother", "sister", "husband", "wife", "child",
    "kid", "baby", "grad", "lad", "lass", "youngster", "teenager", "teen", "joiner", "newcomer", "recruit", "hiree",
    "senior", "junior", "peer",
    "coworker", "co-worker", "counterpart", "representative", "spokesperson", "translator", "interpreter",
}
# fmt: on
# Verbs whose object is usually a person ("asked the candidate", "thanked the driver"): a noun after one of them may
# be someone no role list knows.
# fmt: off
PERSON_OBJECT_VERBS = {
    "ask", "tell", "show", "help", "call", "meet", "interview", "thank", "email", "message", "introduce", "remind",
    "teach", "train", "coach", "mentor", "pay", "hire", "fire", "invite", "warn", "text", "phone", "praise", "blame",
    "correct", "interrupt", "contact", "brief", "greet", "push", "follow", "criticise", "criticize", "mock", "ignore",
    "reassure", "comfort", "support", "welcome", "treat", "serve", "visit", "walk", "drive", "take", "bring", "leave",
    "give", "offer", "promise", "assure", "convince", "persuade", "cover", "replace", "shout", "yell",
}
# fmt: on
MENTEE_ROLES = {"mentee", "report", "intern", "apprentice", "trainee"}
# Verbs and nouns with which the mentor names the person they will talk to: "give her feedback", "talk to Chloe".
# fmt: off
TALK_WORDS = {
    "feedback", "talk", "speak", "tell", "meet", "see", "praise", "thank", "recognise", "recognize", "mentor",
    "coach", "help", "raise", "handle", "approach", "say", "congratulate", "reward", "support", "manage", "worry",
    "worried", "mentoring", "recognition", "credit", "kudos", "thanks", "shout-out", "shoutout", "chat", "word",
}
# fmt: on
# Verbs that report someone's words or thoughts: a pronoun inside is likelier the speaker than anyone else.
# fmt: off
SPEECH_VERBS = {
    "say", "tell", "ask", "feel", "think", "write", "message", "email", "complain", "explain", "admit", "mention",
    "claim", "report", "text", "reply", "shout", "insist", "worry", "wonder",
}
# fmt: on
# fmt: off
_NOT_PERSON_ENTS = {
    "DATE", "TIME", "MONEY", "PERCENT", "CARDINAL", "ORDINAL", "QUANTITY", "LANGUAGE", "LAW",
}
# fmt: on


@dataclass
class Person:
    key: int
    name: str | None = None
    gender: str | None = None  # "m" or "f" once a pronoun settles it
    mentions: list[tuple[int, int]] = field(default_factory=list)  # token ranges [start, end)
    is_role: bool = False

    @property
    def tokens(self) -> set[int]:
        return {i for start, end in self.mentions for i in range(start, end)}

    @property
    def first(self) -> int:
        return min(start for start, _ in self.mentions)


@dataclass
class People:
    doc: Doc
    persons: list[Person]
    owner: dict[int, int]  # token index -> person key
    unsure: set[int]  # pronoun tokens that could point at the mentee or at someone else
    mentee: Person | None

    def of(self, token: Token) -> Person | None:
        key = self.owner.get(token.i)
        return None if key is None else self.persons[key]

    def is_mentee(self, token: Token) -> bool:
        return self.mentee is not None and self.owner.get(token.i) == self.mentee.key

    def is_mentor(self, token: Token) -> bool:
        return token.lower_ in MENTOR_WORDS

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.persons if p.name)


def reattach_named_roles(doc: Doc) -> None:
    """The small model sometimes hangs the name after a role on the verb ("My mentee Ben talks over…": "Ben" a
    compound of "talks"), so the name joins the act. Such a name is put back beside its role, as an apposition."""
    for token in doc:
        role = doc[token.i - 1] if token.i else None
        if (
            role is not None
            and token.pos_ == "PROPN"
            and token.dep_ == "compound"
            and token.head.pos_ in ("VERB", "AUX")
            and role.lemma_.lower() in PERSON_NOUNS
            and role.head == token.head
        ):
            token.head = role
            token.dep_ = "appos"


def reattach_second_subjects(doc: Doc) -> None:
    """ "Marta, one of my line cooks, sent out the wrong dishes": the small model sometimes reads the aside between
    commas as a second subject of the verb, so the act has no single doer. A subject set off by commas right after
    another is an apposition of the first."""
    for verb in doc:
        subjects = [c for c in verb.children if c.dep_ == "nsubj"]
        if len(subjects) < 2:
            continue
        first, aside = subjects[0], subjects[1]
        before, after = aside.left_edge.i - 1, aside.right_edge.i + 1
        between_commas = before > first.i and doc[before].text == "," and after < len(doc) and doc[after].text == ","
        if between_commas and before == first.right_edge.i + 1:
            aside.head = first
            aside.dep_ = "appos"


def find_people(doc: Doc) -> People:
    persons: list[Person] = []
    owner: dict[int, int] = {}
    _add_names(doc, persons, owner)
    _add_roles(doc, persons, owner)
    unsure = _resolve_pronouns(doc, persons, owner)
    for person in persons:
        _merge_mentions(doc, person, owner)
    people = People(doc, persons, owner, unsure, None)
    people.mentee = _choose_mentee(doc, people)
    return people


def _merge_mentions(doc: Doc, person: Person, owner: dict[int, int]) -> None:
    """ "My mentee Kofi", "my apprentice, Callum,": side-by-side mentions of one person are one mention."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(set(person.mentions)):
        gap = [doc[i].text for i in range(merged[-1][1], start)] if merged else []
        pronoun = end - start == 1 and doc[start].lower_ in MASC | FEM
        if merged and gap in ([], [","]) and not pronoun and start >= merged[-1][0]:
            across_comma = start > merged[-1][1]
            last = max(end, merged[-1][1])
            if across_comma and last < len(doc) and doc[last].text == ",":
                last += 1  # the comma that closes the apposition
            merged[-1] = (merged[-1][0], last)
        else:
            merged.append((start, end))
    person.mentions = merged
    for start, end in merged:
        for i in range(start, end):
            owner[i] = person.key


# --- names ---------------------------------------------------------------------------------------------------


# fmt: off
_CALENDAR = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march",
    "april", "may", "june", "july", "august", "september", "october", "november", "december", "today", "tomorrow",
    "yesterday", "tonight",
}
# fmt: on


def _name_like(token: Token) -> bool:
    if not token.is_alpha or (token.is_upper and len(token) > 1):
        return False
    # "Last night Caoimhe covered…": the tagger can pull a name into the time before it.
    pulled_into_time = token.ent_type_ in ("DATE", "TIME") and token.pos_ == "PROPN" and token.dep_ == "nsubj"
    if token.ent_type_ in _NOT_PERSON_ENTS and not (pulled_into_time and token.lower_ not in _CALENDAR):
        return False
    if token.lower_ in MENTOR_WORDS | MASC | FEM or token.lower_ in PERSON_NOUNS:
        return False
    english = token.lower_ in known_words() or token.lemma_.lower() in known_words() or token.is_stop
    if token.ent_type_ == "PERSON" or _titled_after_role(token):
        return True
    if token.pos_ == "PROPN":
        # Every sentence's first word is capitalised, and the tagger then takes an English adverb for a name
        # ("Weekly feels like too much", "Honestly…"); names that are also words ("Hope", "Sue") stay names.
        return not (token.is_sent_start and english and token.lower_.endswith("ly"))
    # The tagger often misses a name at the start of a sentence ("Elif has…", "Ilse does…"): a word that is not
    # English and stands where a noun would counts.
    noun_place = token.pos_ in ("NOUN", "ADJ", "X") or token.dep_ in ("nsubj", "nsubjpass")
    subject_place = token.dep_ in ("nsubj", "nsubjpass") or _before_own_verb(token)
    return not english and noun_place and (token.is_title or subject_place)


def _titled_after_role(token: Token) -> bool:
    """A capitalised word mid-sentence right after a role noun is a name even when it is also a word ("my mentee
    Sade", "our intern Hope")."""
    doc = token.doc
    before = doc[token.i - 1] if token.i > 0 else None
    if before is not None and before.text == "," and token.i > 1:
        before = doc[token.i - 2]  # "my mentee, siddharth, is…"
    if before is None or before.lemma_.lower() not in PERSON_NOUNS or token.lower_ in _CALENDAR:
        return False
    if token.is_title and not token.is_sent_start:
        return True
    # in a lower-case message ("my apprentice tomasz he cut…") a word no dictionary knows, after the role, is the name
    english = token.lower_ in known_words() or token.lemma_.lower() in known_words() or token.is_stop
    return token.is_lower and not english and len(token) > 1


def _before_own_verb(token: Token) -> bool:
    """Right before a finite verb whose parsed subject, if any, is a thing further left: "in friday's retro liam
    blamed…", "at the market stall on saturday jess gave…" (lower-case names the tagger took for nouns)."""
    doc = token.doc
    verb = doc[token.i + 1] if token.i + 1 < len(doc) else None
    if verb is None or verb.tag_ not in ("VBD", "VBZ", "VBP") or any(c.dep_ == "det" for c in token.children):
        return False
    subjects = [c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")]
    return all(s.i < token.i and s.pos_ == "NOUN" for s in subjects)


def _name_spans(doc: Doc) -> list[Span]:
    """Runs of name-like tokens, joined across hyphens ("Hye-jin", "Sung-min")."""
    spans: list[Span] = []
    i = 0
    while i < len(doc):
        if not _name_like(doc[i]):
            i += 1
            continue
        end = i + 1
        while end < len(doc):
            if _name_like(doc[end]) and doc[end - 1].whitespace_ and doc[end].is_title == doc[i].is_title:
                end += 1
            elif doc[end].text == "-" and end + 1 < len(doc) and not doc[end].whitespace_ and doc[end + 1].is_alpha:
                end += 2
            else:
                break
        while end - i > 1 and doc[i].is_lower and doc[i].lower_ in known_words():
            i += 1  # "the team lunch marco made…": an English word in lower case does not start a name
        spans.append(doc[i:end])
        i = end
    return spans


def _acts_as_person(span: Span) -> bool:
    head = span.root
    dep, gov = head.dep_, head.head
    if dep in ("nsubj", "nsubjpass", "poss", "appos") or (dep == "compound" and gov.lower_ in PERSON_NOUNS):
        return dep != "poss" or span.doc[span.end : span.end + 1].text in ("'s", "'")
    if dep == "conj" and (gov.pos_ == "PROPN" or gov.lower_ in PERSON_NOUNS):
        return True
    if any(c.dep_ in ("appos", "compound") and c.lemma_.lower() in PERSON_NOUNS | {"one"} for c in head.children):
        return True  # "the intern, Dmitri", "my apprentice dan"
    if any(
        c.dep_ == "relcl" and any(g.dep_ == "nsubj" and g.lower_ == "who" for g in c.children) for c in head.children
    ):
        return True  # "a shout-out to Efe, who ran the stocktake": "who" is said of people
    if stray_subject_of(span) is not None:
        return True
    resumed = span.end < len(span.doc) and span.doc[span.end].lower_ in ("he", "she")
    if resumed and span.doc[span.end].dep_ == "nsubj" and dep in ("dep", "npadvmod", "nsubj", "appos"):
        return True  # "my mentee Ravi he not listen…": the name, then a pronoun as the verb's subject
    if _starts_as_subject(span):
        return True
    if dep in ("oprd", "attr") and gov.lemma_.lower() in ("call", "name"):
        return True  # "my mentee is called Zanele"
    if _heads_the_notes(span):
        return True
    if dep in ("dobj", "dative") and head.pos_ == "PROPN" and _addressed_by_mentor(gov):
        return True  # "I asked Obi why…", "I warned Ilse twice"
    if dep in ("dobj", "dative", "pobj", "attr", "npadvmod"):
        person_prep = dep == "pobj" and gov.lower_ in ("from", "for", "with", "by", "to")  # "a good job from Ruth"
        return is_talked_to(head) or (head.ent_type_ == "PERSON" and (dep != "pobj" or person_prep))
    return False


ADDRESS_VERBS = {"ask", "tell", "remind", "warn", "email", "message", "text", "call", "meet", "see", "thank", "ping"}


def _addressed_by_mentor(verb: Token) -> bool:
    """A verb of speaking to someone whose subject is the mentor."""
    subject = next((c for c in verb.children if c.dep_ == "nsubj"), None)
    return verb.lemma_.lower() in ADDRESS_VERBS and subject is not None and subject.lower_ in MENTOR_WORDS


def _heads_the_notes(span: Span) -> bool:
    """ "Feedback for Chen:", "Points for Ines:", "About Gideon:": a short heading naming whom the notes after the
    colon are about."""
    doc, head = span.doc, span.root
    colon = span.end < len(doc) and doc[span.end].text == ":"
    short = span.start - span.sent.start <= 5 if colon else False
    return colon and short and head.dep_ == "pobj" and head.head.lower_ in ("for", "about", "on", "with", "re", "to")


def stray_subject_of(span: Span) -> Token | None:
    """The verb a name is the unparsed subject of: "in the stand-up Sofia explained…" and "in friday's retro liam
    blamed…" make the name an object, yet it sits right before a verb that has no subject."""
    end = span.end
    if span.root.dep_ == "appos" and end < len(span.doc) and span.doc[end].text in (",", "-", "–", "—"):
        end += 1  # "…the registrar I mentor, Ifeoma, caught…": the comma closes the apposition
    nxt = span.doc[end] if end < len(span.doc) else None
    if nxt is None or span.root.dep_ not in ("pobj", "compound", "dobj", "npadvmod", "appos"):
        return None
    verb = nxt.head if nxt.dep_ in ("aux", "neg", "advmod") else nxt
    if verb.pos_ not in ("VERB", "AUX") or verb.i < end or span.root.lower_ in MASC | FEM:
        return None
    subjects = [c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")]
    # none, or a thing before the name that the parser made the subject ("the market stall … jess gave")
    if all(s.i < span.start and s.pos_ == "NOUN" and s.lower_ not in PERSON_NOUNS for s in subjects):
        return verb
    return None


def own_subjects(verb: Token, people: People) -> list[Token]:
    """The verb's subjects as parsed, or the name right before it that the parser took for something else."""
    found = [c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")]
    # "After the product launch Wiremu thanked…" parsed as the launch, with Wiremu in apposition, thanking.
    named = [a for s in found if people.of(s) is None for a in s.children if a.dep_ == "appos" and people.of(a)]
    if named:
        return named
    people_found = [f for f in found if people.of(f) is not None]
    if people_found and len(found) > 1:
        return people_found  # "no names, but one of my team keeps…" parsed with two subjects
    if found and (people_found or not _stray_names(verb, people)):
        return found
    return _stray_names(verb, people)[:1]


def _stray_names(verb: Token, people: People) -> list[Token]:
    for person in people.persons:
        for start, end in person.mentions:
            if person.name and stray_subject_of(verb.doc[start:end]) == verb:
                return [verb.doc[end - 1]]
    return []


def talk_word(token: Token) -> Token | None:
    """The word that makes this object the one talked to: "give *feedback* to Olek", "*talk* to Chloe"."""
    governor = token.head.head if token.dep_ == "pobj" else token.head
    for word in (governor, *(c for c in governor.children if c.dep_ == "dobj")):
        if word.lemma_.lower() in TALK_WORDS or word.lower_ in TALK_WORDS:
            return word
    return None


def is_talked_to(token: Token) -> bool:
    if token.dep_ == "compound":  # "give Farah feedback" parsed as a kind of feedback
        return token.head.lemma_.lower() in TALK_WORDS
    if token.dep_ == "pobj" and token.head.lower_ in MEDIUM_PREPOSITIONS:
        return False
    return token.dep_ in ("dobj", "dative", "pobj", "attr") and talk_word(token) is not None


def _add_names(doc: Doc, persons: list[Person], owner: dict[int, int]) -> None:
    by_name: dict[str, Person] = {}
    for span in _name_spans(doc):
        if not _acts_as_person(span):
            continue
        key = span.text.lower()
        person = by_name.get(key) or next((p for k, p in by_name.items() if k.split()[0] == key), None)
        if person is None:
            person = Person(len(persons), name=span.text)
            persons.append(person)
            by_name[key] = person
        person.mentions.append((span.start, span.end))
        for i in range(span.start, span.end):
            owner[i] = person.key
    # A name first used only where it is not a person's role elsewhere still counts once it is a person.
    for span in _name_spans(doc):
        person = by_name.get(span.text.lower())
        if person and span.start not in owner:
            person.mentions.append((span.start, span.end))
            for i in range(span.start, span.end):
                owner[i] = person.key


# --- roles ---------------------------------------------------------------------------------------------------


def _role_range(token: Token) -> tuple[int, int]:
    """The noun phrase before and including a role noun: "my new mentee", "one of my reports"."""
    # "my new mentee" is one mention; in "her manager" the "her" is someone else, left for the pronoun pass
    left = [
        c
        for c in token.lefts
        if c.dep_ in ("det", "amod", "compound", "nummod") or (c.dep_ == "poss" and c.lower_ in MENTOR_WORDS)
    ]
    start = min([token.i, *(c.left_edge.i for c in left)])
    if token.dep_ == "pobj" and token.head.dep_ == "prep" and token.head.head.lower_ == "one":
        start = min(start, token.head.head.i)
    return start, token.i + 1


def _add_roles(doc: Doc, persons: list[Person], owner: dict[int, int]) -> None:
    for token in doc:
        if token.i in owner:
            continue
        one_of = token.lower_ == "one" and any(c.dep_ == "prep" and c.lower_ == "of" for c in token.children)
        # a lower-case role the tagger took for a name ("my apprentice plumber's joints") is still a role
        tagged_as_noun = token.tag_ == "NN" or (token.tag_ == "NNP" and token.is_lower)
        singular_role = token.lemma_.lower() in PERSON_NOUNS and tagged_as_noun and token.dep_ != "compound"
        # "Wren is the one I mentor": "one" with the mentor looking after them is a person
        singular_role = singular_role or (token.lower_ == "one" and _looked_after_by_mentor(token))
        if not (one_of or singular_role) or _names_a_post(token):
            continue
        start, end = (token.i, max(t.i for t in token.subtree) + 1) if one_of else _role_range(token)
        if one_of and token.dep_ not in ("nsubj", "nsubjpass", "appos", "dobj", "pobj"):
            continue
        named = _named_partner(token, persons, owner) or _same_role(doc, token, start, persons)
        person = named or Person(len(persons), is_role=True)
        if named is None:
            persons.append(person)
        person.mentions.append((start, end))
        for i in range(start, end):
            owner.setdefault(i, person.key)
        mentee_role = any(doc[i].lemma_.lower() in MENTEE_ROLES for i in range(start, end))
        if named is not None and person.name and (mentee_role or _looked_after_by_mentor(token)):
            person.is_role = True  # "my mentee Kofi": the name and the role are one person


def _names_a_post(noun: Token) -> bool:
    """ "promoted to senior lecturer", "hired as a consultant": the post someone holds, not another person."""
    prep = noun.head if noun.dep_ == "pobj" else None
    verb = prep.head if prep is not None else None
    posts = {"promote", "appoint", "hire", "employ", "move", "transfer", "work", "start", "join", "train", "qualify"}
    return verb is not None and prep.lower_ in ("to", "as") and verb.lemma_.lower() in posts  # type: ignore[union-attr]


def _same_role(doc: Doc, token: Token, start: int, persons: list[Person]) -> Person | None:
    """ "the customer … the customer": the same definite role twice is one person."""
    if doc[start].lower_ != "the":
        return None
    for person in persons:
        if person.is_role and not person.name:
            s, e = person.mentions[0]
            if doc[s].lower_ == "the" and doc[e - 1].lemma_ == token.lemma_:
                return person
    return None


def _named_partner(token: Token, persons: list[Person], owner: dict[int, int]) -> Person | None:
    """The named person a role noun stands beside: "my mentee Kofi", "the intern, Dmitri,", "Kenji is my mentee"."""
    doc = token.doc
    candidates = [c for c in (*token.children, token.head) if c.dep_ == "appos" or token.dep_ == "appos"]
    candidates += appositions(token)  # "the registrar I mentor, Ifeoma": the name hangs off "mentor", not the role
    candidates += _set_off(token)
    if token.dep_ == "attr":  # "Grace is my mentee"
        candidates += [c for c in token.head.children if c.dep_ == "nsubj"]
    if token.dep_ == "nsubjpass" and token.head.lemma_.lower() in ("call", "name"):  # "my mentee is called Zanele"
        candidates += [c for c in token.head.children if c.dep_ in ("oprd", "attr")]
    if token.i + 1 < len(doc):
        candidates.append(doc[token.i + 1])  # "My mentee Kofi"
    for c in candidates:
        key = owner.get(c.i)
        if key is not None and persons[key].name:
            return persons[key]
    return None


def appositions(token: Token) -> list[Token]:
    """Words in apposition to this one, directly or through another apposition ("the analyst I coach, Mehmet,"
    comes out as analyst ← coach ← Mehmet)."""
    found: list[Token] = []
    stack = [c for c in token.children if c.dep_ == "appos"]
    while stack:
        node = stack.pop()
        found.append(node)
        stack += [c for c in node.children if c.dep_ == "appos"]
    return found


def _set_off(noun: Token) -> list[Token]:
    """Words the noun's own phrase sets off between commas at its end: "the intern I supervise, Aurélie," parsed
    with the name under "supervise"."""
    doc = noun.doc
    edge = noun.right_edge.i
    if doc[edge].text == ",":
        edge -= 1
    if edge <= noun.i + 1 or doc[edge - 1].text != ",":
        return []
    return [doc[edge]]


def appos_root(token: Token) -> Token:
    """The head of the apposition chain a word is in (itself when it is in none)."""
    while token.dep_ == "appos" and token.head.i != token.i:
        token = token.head
    return token


# --- pronouns ------------------------------------------------------------------------------------------------


def _gender(word: str) -> str | None:
    return "m" if word in MASC else "f" if word in FEM else None


def _clause_subject(token: Token) -> Token | None:
    """The subject of the clause a word is in; a verb without one ("without *asking* her") borrows its governor's."""
    verb = token.head
    while True:
        if verb.pos_ in ("VERB", "AUX"):
            subject = next((c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")), None)
            if subject is not None or verb.dep_ not in ("xcomp", "pcomp", "advcl", "conj", "prep", "pobj"):
                return subject
        if verb.head.i == verb.i:
            return None
        verb = verb.head


def _speaker(pronoun: Token) -> Token | None:
    """The one whose words a pronoun sits in: "one of them told me that *he*…" → "one"."""
    verb = pronoun.head
    if pronoun.dep_ not in ("nsubj", "nsubjpass") or verb.dep_ not in ("ccomp", "xcomp"):
        return None
    if verb.head.lemma_.lower() not in SPEECH_VERBS:
        return None
    node = verb.head
    while True:  # "the customer asked to speak to me and said *she*…": the subject is the first verb's
        subject = next((c for c in node.children if c.dep_ in ("nsubj", "nsubjpass")), None)
        if subject is not None or node.dep_ != "conj":
            return None if subject is not None and subject.lower_ in MENTOR_WORDS else subject
        node = node.head


def _candidates(pronoun: Token, persons: list[Person], owner: dict[int, int]) -> list[Person]:
    gender = _gender(pronoun.lower_)
    found = [p for p in persons if p.first < pronoun.i and p.gender in (None, gender) and pronoun.i not in p.tokens]
    if pronoun.dep_ in ("dobj", "dative", "pobj") and not pronoun.lower_.endswith("self"):
        # An object pronoun is never its own clause's subject ("he rewrote it without asking *her*").
        subject = _clause_subject(pronoun)
        if subject is not None and subject.i in owner:
            found = [p for p in found if p.key != owner[subject.i]]
    return found


def _resolve_pronouns(doc: Doc, persons: list[Person], owner: dict[int, int]) -> set[int]:
    pronouns = [t for t in doc if t.lower_ in MASC | FEM and t.i not in owner]
    unsure: set[int] = set()
    links: dict[int, int] = {}
    created: dict[int, Person] = {}
    for _ in range(2):  # the second pass uses genders learnt from later pronouns
        unsure.clear()
        for pronoun in pronouns:
            chosen, sure = _resolve(pronoun, persons, owner | links, created, unsure)
            if chosen is None:
                unsure.add(pronoun.i)  # reported words of someone we cannot place: never the mentee's for sure
                continue
            links[pronoun.i] = chosen.key
            if not sure:
                unsure.add(pronoun.i)
            elif chosen.gender is None:
                chosen.gender = _gender(pronoun.lower_)
    for i, key in links.items():
        if i not in persons[key].tokens:
            persons[key].mentions.append((i, i + 1))
        owner[i] = key
    return unsure


def _resolve(
    pronoun: Token, persons: list[Person], owner: dict[int, int], created: dict[int, Person], unsure: set[int]
) -> tuple[Person | None, bool]:
    """(who the pronoun points at, whether that is sure)."""
    found = _candidates(pronoun, persons, owner)
    resumed = _resumed_name(pronoun, persons, owner)
    if resumed is not None and resumed in found:
        return resumed, True
    speaker = _speaker(pronoun)
    if speaker is not None and speaker.i in owner and speaker.i not in unsure and persons[owner[speaker.i]] in found:
        return persons[owner[speaker.i]], True
    if speaker is not None and found:
        return None, False
    if len(found) == 1:
        return found[0], not (_could_be_unlisted(pronoun, found[0], owner) or _acted_on_someone(pronoun, owner))
    if not found:
        chosen = created.get(pronoun.i) or Person(len(persons), mentions=[(pronoun.i, pronoun.i + 1)])
        if pronoun.i not in created:  # "He didn't show up…": someone not named
            created[pronoun.i] = chosen
            persons.append(chosen)
        return chosen, True
    same = _same_subject(pronoun, found, owner, unsure)
    if same is not None:
        # "Mirela told me that Tobias drove her home because *she* had missed the bus": with someone else in the
        # sentence who could be meant, the governing subject is only the likelier reading.
        sent = pronoun.sent
        rivals = [p for p in found if p is not same and any(sent.start <= s < sent.end for s, _ in p.mentions)]
        return same, not rivals and not _acted_on_someone(pronoun, owner)
    if _mentor_speaks_of(pronoun):
        # "I want *him* to…", "I'll talk to *her*": the mentor means the one they last said did something.
        latest = _latest_subject(pronoun, found, owner)
        if latest is not None:
            return latest, True
    return min(found, key=lambda p: (p.name is None, p.first)), False


def _acted_on_someone(pronoun: Token, owner: dict[int, int]) -> bool:
    """ "Ngozi walked the CFO through the figures and didn't flinch when *he* challenged them": a subject pronoun
    after someone was acted on in its sentence could mean them, even one no Person was made for."""
    if pronoun.dep_ not in ("nsubj", "nsubjpass"):
        return False
    before = pronoun.doc[pronoun.sent.start : pronoun.i]
    return any(t.dep_ in ("dobj", "dative") and t.lemma_.lower() in PERSON_NOUNS and t.i not in owner for t in before)


def _resumed_name(pronoun: Token, persons: list[Person], owner: dict[int, int]) -> Person | None:
    """ "my mentee Hao he did not prepare…": a subject pronoun right after a name that is no verb's object picks
    the name up again (not "I told Ana he was late", where Ana is told)."""
    if pronoun.dep_ != "nsubj" or pronoun.i == 0:
        return None
    before = pronoun.doc[pronoun.i - 1]
    key = owner.get(before.i)
    if key is None or not persons[key].name or before.dep_ not in ("npadvmod", "dep", "appos", "nsubj"):
        return None
    return persons[key]


def _could_be_unlisted(pronoun: Token, person: Person, owner: dict[int, int]) -> bool:
    """An object or possessive pronoun after a singular noun the mentee acted on ("Uma asked the candidate about
    *her* kids"): that noun may be a person no role list knows, so the one candidate is not sure. Only verbs done
    to people count: "answered every question without looking at her notes" leaves no one else to mean."""
    if pronoun.dep_ not in ("poss", "dobj", "pobj", "dative") or pronoun.lower_.endswith("self"):
        return False
    subject = _clause_subject(pronoun.head if pronoun.dep_ == "poss" else pronoun)
    if subject is None or owner.get(subject.i) != person.key:
        return False  # only the one acting could be mixed up with the one acted on
    start = max((s for s, _ in person.mentions if s < pronoun.i), default=pronoun.sent.start)
    between = pronoun.doc[max(start, pronoun.sent.start) : pronoun.i]
    return any(
        t.tag_ == "NN"
        and t.dep_ in ("dobj", "dative")
        and t.i not in owner
        and t.head.pos_ == "VERB"
        and t.head.lemma_.lower() in PERSON_OBJECT_VERBS
        for t in between
    )


def _same_subject(pronoun: Token, found: list[Person], owner: dict[int, int], unsure: set[int]) -> Person | None:
    """ "I want him to let customers finish before *he* answers": a subordinate clause's subject is the nearest
    governing clause's subject that is a settled person of the same gender."""
    verb = pronoun.head
    if pronoun.dep_ != "nsubj" or verb.dep_ != "advcl":
        return None
    node = verb.head
    while True:
        outer = next((c for c in node.children if c.dep_ in ("nsubj", "nsubjpass")), None)
        if outer is not None and outer.i in owner and outer.i not in unsure:
            if _gender(outer.lower_) not in (None, _gender(pronoun.lower_)):
                return None
            return next((p for p in found if p.key == owner[outer.i]), None)
        if node.dep_ not in ("ccomp", "xcomp", "advcl", "conj") or node.head.i == node.i:
            return None
        node = node.head


def _mentor_speaks_of(pronoun: Token) -> bool:
    """The pronoun is whom the mentor wants something of or will talk to."""
    head = pronoun.head
    if pronoun.dep_ in ("nsubj", "nsubjpass") and head.dep_ in ("ccomp", "xcomp"):
        head = head.head
    if head.lemma_.lower() not in TALK_WORDS | {"want", "like", "need", "expect", "ask", "give"}:
        return False
    node = head
    while node.dep_ in ("xcomp", "ccomp", "conj") and not any(c.dep_ == "nsubj" for c in node.children):
        node = node.head
    subject = next((c for c in node.children if c.dep_ in ("nsubj", "nsubjpass")), None)
    return subject is not None and subject.lower_ in MENTOR_WORDS


def _latest_subject(pronoun: Token, found: list[Person], owner: dict[int, int]) -> Person | None:
    """The last subject before the pronoun among people the mentor could be mentoring: named, or their own."""
    doc = pronoun.doc
    keys = {p.key: p for p in found if p.name or not p.is_role or _is_mentors(doc, p)}
    for token in reversed(pronoun.doc[: pronoun.i]):
        if token.dep_ in ("nsubj", "nsubjpass") and owner.get(token.i) in keys:
            return keys[owner[token.i]]
    return None


# --- the mentee ----------------------------------------------------------------------------------------------


def _choose_mentee(doc: Doc, people: People) -> Person | None:
    return _named_mentee(people) or _talk_target(doc, people) or _first_actor(doc, people) or _only_named(people)


def _only_named(people: People) -> Person | None:
    """A message that names one person and no one else doing anything is about that person."""
    named = [p for p in people.persons if p.name]
    return named[0] if len(named) == 1 else None


def _talk_target(doc: Doc, people: People) -> Person | None:
    """The person the mentor means to talk to, praise or give feedback to."""
    for token in doc:
        person = people.of(token) if token.i not in people.unsure else None
        word = talk_word(token) if person is not None and is_talked_to(token) else None
        if word is not None and _by_mentor(word, people):
            return person
    return None


def _by_mentor(word: Token, people: People) -> bool:
    """A word in a clause whose subject is the mentor, or in a request to the assistant ("help me give…")."""
    node = word
    while True:
        subject = next((c for c in node.children if c.dep_ in ("nsubj", "nsubjpass")), None)
        if subject is not None:
            return people.is_mentor(subject) or subject.lower_ == "you"
        if node.dep_ == "ROOT" or node.head.i == node.i:
            return node.pos_ in ("VERB", "AUX", "NOUN")  # imperative: "help me prepare", "feedback for Tariq"
        node = node.head


def _starts_as_subject(span: Span) -> bool:
    """The small parser misreads some sentences that open with a name: "Omar babysat the release" (the verb taken
    for a noun, the name for its compound), "Serwaa and I don't click" (the name left as a fragment). A name the
    tagger marks as a person, first in its sentence, before a verb-like word or "and I", is the one acting."""
    head, doc = span.root, span.doc
    if head.ent_type_ != "PERSON" or not span[0].is_sent_start or span.end >= len(doc):
        return False
    after = doc[span.end]
    if head.dep_ == "compound" and head.head.i == span.end and after.dep_ == "ROOT":
        return True
    return after.lower_ == "and" and span.end + 1 < len(doc) and doc[span.end + 1].lower_ in ("i", "me")


def _named_mentee(people: People) -> Person | None:
    """The mentor's own mentee, report, intern…: "my mentee Kofi", "Grace is my mentee", "one of my reports"."""
    own = [p for p in people.persons if p.is_role and _has_mentee_role(people, p) and _is_mentors(people.doc, p)]
    titled = [p for p in people.persons if p.name and _titled_by_own_role(people.doc, p)]
    return next((p for p in own if p.name), None) or next(iter(titled), None) or next(iter(own), None)


def _titled_by_own_role(doc: Doc, person: Person) -> bool:
    """ "My mentee Lakshmi is in Mumbai": the parser can fold the role into the name as a compound, so no role
    person is made; the role word just before the name, with "my" or "our", still says whose mentee she is."""
    start = person.mentions[0][0] if person.mentions else 0
    role = doc[start - 1] if start > 0 else None
    return role is not None and role.lemma_.lower() in MENTEE_ROLES and _is_mentors(doc, person)


def _has_mentee_role(people: People, person: Person) -> bool:
    doc = people.doc
    return any(
        doc[i].lemma_.lower() in MENTEE_ROLES | {"one"} or _looked_after_by_mentor(doc[i]) for i in person.tokens
    )


def _first_actor(doc: Doc, people: People) -> Person | None:
    """The first person (named first, then anyone) who is the subject of something they did."""
    subjects = sorted(
        {s for t in doc if t.pos_ in ("VERB", "AUX") for s in own_subjects(t, people) if people.of(s) is not None},
        key=lambda t: t.i,
    )
    # "Ama and Kojo were both at the party. Kojo got drunk…": one who acts alone before those who act jointly;
    # "Rosa told me that Kai had been rude to her": the one reported on before the one reporting
    # "Tilde was thorough but Ravi left early": one judged in passing comes after one who did something; "When
    # Nadia asked for help, Piotr told her to read the docs": who sets the scene comes after who acts in it
    subjects.sort(
        key=lambda t: (
            any(c.dep_ == "conj" for c in t.children),
            _reports_on_someone(t, people),
            _sets_the_scene(t),
            _judged(t),
        )
    )
    named = [t for t in subjects if people.of(t).name]  # type: ignore[union-attr]
    # Someone unnamed is the mentee only as the mentor's own ("my mentee", "one of my reports", "the new guy on
    # my team") or as a bare pronoun; "the patient went home" makes nobody the mentee.
    unnamed = [t for t in subjects if _could_be_mentee(people, people.of(t))]  # type: ignore[arg-type]
    for group in (named, unnamed):
        if group:
            return people.of(group[0])
    return None


SCENE_MARKS = {"when", "while", "as", "after", "before", "once", "until", "whenever"}


def _sets_the_scene(subject: Token) -> bool:
    """The subject of a time clause put before the main clause: "*When Nadia asked for help*, Piotr…"."""
    verb = subject.head
    marked = any(c.dep_ in ("mark", "advmod") and c.lower_ in SCENE_MARKS for c in verb.children)
    return verb.dep_ == "advcl" and marked and verb.i < verb.head.i


def _judged(subject: Token) -> bool:
    """The subject of a verdict ("was thorough", "is great"), not of an act."""
    verb = subject.head
    children = list(verb.children)
    return (
        verb.lemma_ in ("be", "seem", "look", "sound")
        and any(c.dep_ == "acomp" for c in children)
        and not any(c.dep_ == "prep" for c in children)
    )


def _reports_on_someone(subject: Token, people: People) -> bool:
    """The subject of a verb of saying or noticing whose reported clause has a named person of its own as subject."""
    verb = subject.head
    if verb.lemma_.lower() not in SPEECH_VERBS | {"notice", "hear", "see", "mention"}:
        return False
    # only a report to the mentor ("told me", "said", "mentioned to me"), not the mentee telling a client something
    told = [t for c in verb.children if c.dep_ in ("dobj", "dative", "prep") for t in c.subtree if t.dep_ != "prep"]
    if told and not any(t.lower_ in MENTOR_WORDS for t in told):
        return False
    for clause in (c for c in verb.children if c.dep_ == "ccomp"):
        inner = [people.of(g) for g in clause.children if g.dep_ in ("nsubj", "nsubjpass")]
        if any(p is not None and p.name and p is not people.of(subject) for p in inner):
            return True
    return False


# Verbs with which the mentor says someone is theirs to develop: "the registrar I mentor", "who I've coached".
LOOK_AFTER_VERBS = {"mentor", "coach", "supervise", "train", "manage", "look", "support"}
# the tagger sometimes reads "the lad I'm training" with "training" as a noun
LOOK_AFTER_VERBS |= {"mentoring", "coaching", "supervising", "training", "managing", "supporting"}


def _looked_after_by_mentor(noun: Token) -> bool:
    """A relative clause or apposition on the noun in which the mentor looks after them."""
    for part in (*noun.children, *appositions(noun)):
        if part.dep_ not in ("relcl", "appos", "acl"):
            continue
        words = list(part.subtree)
        mentor = any(t.lower_ in ("i", "we") for t in words)
        if mentor and any(t.lemma_.lower() in LOOK_AFTER_VERBS or t.lower_ in LOOK_AFTER_VERBS for t in words):
            return True
    return False


def _could_be_mentee(people: People, person: Person) -> bool:
    return not person.is_role or _is_mentors(people.doc, person)  # a bare pronoun: "He didn't show up…"


def _is_mentors(doc: Doc, person: Person) -> bool:
    """ "my mentee", "one of my reports", "the new guy on my team": someone the mentor looks after."""
    for start, end in person.mentions:
        head = doc[end - 1]
        words = {t.lower_ for t in head.subtree} | {doc[i].lower_ for i in range(start, end)}
        if words & {"my", "our"}:  # "the intern" in someone's story is not the mentor's own
            return True
        if _looked_after_by_mentor(head):  # "the registrar I mentor", "the analyst I'm coaching"
            return True
    return False
