"""Safety router: decides, before any coaching, whether a message needs escalation instead of tips.

Three layers, cheapest and most precise first:

1. Deterministic patterns (word-bounded regexes). Crisis patterns always count; the *mention*
   patterns of harassment and legal ("harassment", "lawsuit") are skipped inside a
   hypothetical or knowledge-seeking clause ("what should a mentor do if a mentee discloses
   harassment?"), which is answered from the boundaries-and-escalation guidance instead.
2. Embedding similarity to the written examples in `safety_examples.yaml`: a sentence counts for
   a category when its nearest example belongs to it, the similarity reaches the category's
   threshold and it beats the nearest benign look-alike by `MARGIN`.
3. An optional `llm_check(text) -> category | None` that may add a category when the first two
   found none; it never removes or overrides a deterministic decision.

Priority when several categories match: crisis > harassment > harmful > legal > injection.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from assistant.embedders import Embedder
from assistant.types import SAFETY_CATEGORIES, SafetyDecision

log = logging.getLogger(__name__)

ACTIONS: dict[str, str] = {
    "crisis": "escalate",
    "harassment": "refer",
    "legal": "refer",
    "harmful": "decline",
    "injection": "decline",
}
PRIORITY: tuple[str, ...] = ("crisis", "harassment", "harmful", "legal", "injection")
EXAMPLES_PATH = Path(__file__).with_name("safety_examples.yaml")

# Patterns scan at most this much of a message: its start and its end, where a disclosure pasted after a long
# document would be. The UI caps messages far below it; this only bounds the work on hostile input.
MAX_SCAN_CHARS = 20_000
_TAIL_CHARS = 5_000
# The embedding layer looks at this many sentences of at most SEGMENT_CHARS each.
MAX_SEGMENTS = 40
SEGMENT_CHARS = 400

# Tuned on the written examples, hand-written held-out sentences and ~3,000 sentences of ordinary mentoring
# questions and guidance. WordLlama is a static embedding, so similarity mostly tracks shared words: on its own
# this layer finds only 10-20% of held-out positives, and any bar below 0.70 starts firing on ordinary questions
# ("her project is a dead end" ~ "she wishes she were dead"). It therefore catches close rewordings of an
# example and leaves the rest to the patterns; the margin over the nearest benign look-alike removes idioms.
THRESHOLDS: dict[str, float] = {
    "crisis": 0.70,
    "harassment": 0.70,
    "legal": 0.70,
    "harmful": 0.70,
    "injection": 0.70,
}
MARGIN = 0.12

# ---------------------------------------------------------------------------------------------
# Layer 1: patterns. Written against normalised text: lower case, straight quotes, single spaces.
# Each rule is a tuple of alternatives, one per line, so a reviewer can read what it catches.
# ---------------------------------------------------------------------------------------------

_SELF = r"(?:myself|himself|herself|themselves|themself|yourself)"
_POSS = r"(?:my|his|her|their|your)"
_PERSON = (
    r"(?:him|her|them|this (?:person|guy|woman|man|employee|intern)|the (?:intern|new hire)"
    r"|my (?:mentee|report|direct report|colleague|coworker|co-worker|teammate|employee|intern|junior|new hire|peer"
    r"|assistant|manager|boss|lead))"
)
_WHO = r"(?:" + _PERSON + r"|[a-z][\w'-]*)"  # a person, or a single word such as a name

# Who a threat of violence is aimed at.
_TARGET = (
    r"(?:him|her|them|me|us|someone|somebody|people|everyone|everybody|(?:my|his|her|their|the|a|that) (?:boss|manager"
    r"|supervisor|co-?workers?|colleagues?|team ?lead(?:er)?|lead|director|vp|ceo|wife|husband|partner|ex|family"
    r"|mentee|mentor|teammates?|team|customers?|clients?|people|guy|woman|man)s?)"
)
# Vague threats; they count as danger only next to a weapon or "bringing something in" (see CRISIS).
_THREAT = (
    r"\b(?:make (?:\w+ ){1,3}(?:regret|sorry)|make (?:sure )?(?:\w+ ){1,4}pays?|pays? for (?:it|this|that|what)"
    r"|sort (?:\w+ ){0,3}out (?:the |that |my |his |her )?(?:supervisor|manager|boss|lead|vp|guy|woman|director"
    r"|team|him|her|them)|get (?:even|back at)"
    r"|settle (?:the|a|some) score|(?:they|he|she|you|everyone)(?:'ll| will) (?:all )?(?:regret|be sorry|see)"
    r"|take (?:him|her|them) out|won't (?:forget|get away with)|deal with (?:him|her|them) (?:for good|myself))"
)
# An alternative is a regex, or a pair (regex, regex) that must both match somewhere in the message
# ("...talking about his guns" + "...make sure the VP pays for it").
Table = dict[str, tuple[str | tuple[str, str], ...]]

# "Killing herself trying to finish the deck" is overwork, not self-harm.
_OVERWORK = (
    r"(?! (?:trying|working|to (?:finish|meet|hit|get|deliver|keep up|make|please|impress)"
    r"|over (?:a |the |this |that )?"
    r"(?:report|project|deadline|presentation|deck|launch|release|spreadsheet|work|job)s?\b))"
)
CRISIS: Table = {
    "suicide": (
        # ...but not the topic as someone's job ("on the suicide prevention team").
        r"\bsuicid\w*\b(?! (?:prevention|awareness|research|hotline|helpline|line|squad|doors?|mission|pact film))",
        r"\bkill(?:ing|ed|s)? " + _SELF + r"\b" + _OVERWORK,
        r"\b(?:end|ending|ended|take|taking|took) (?:it all|" + _POSS + r" (?:own )?life)\b",
    ),
    "not wanting to live": (
        r"(?:\bnot|n't|\bnever|\bno longer) (?:wants?|wanting|wish(?:es|ing)?) to (?:live|be alive|exist|wake up"
        r"|be here)\b",
        r"\b(?:can't|cannot|can not) go on (?:anymore|any longer|living|like this much longer)\b",
        r"\b(?:disappear|be gone|go away) (?:forever|for good|permanently)\b",
        r"\b(?:hang|drown|poison|shoot) " + _SELF + r"\b",
        r"\bjump(?:s|ing|ed)? (?:off|from|in front of) (?:a |the |his |her |my |their )?(?:\w+ )?(?:bridge|roof"
        r"|building"
        r"|train|balcony|cliff|car|window|tower)\b",
        r"\blife (?:is|isn't|is not|isn't really) (?:not )?worth (?:living|it)\b",
        r"\btired of (?:living|life|being alive|existing)\b",
        r"(?:\bnot|n't|\bno longer)\b(?:\W+\w+){0,4}\W+wants? to (?:be alive|live|go on living"
        r"|exist)\b(?! (?:in|at|with"
        r"|near|there|abroad|on|by|alone|together|close|like))",
        r"\bhow to (?:end (?:it|it all|things|everything|my life|his life|her life|their life)|kill (?:my|him|her|them)"
        r"self|die)\b",
        r"\b(?:the only|no other|no) way out\b(?! of (?:this|the|that|my|his|her) (?:project|contract|deal|meeting|job"
        r"|role|team|situation at work))",
        r"(?:\bnot|n't) (?:be|being) (?:around|alive) (?:anymore|any more|much longer)\b",
        r"\b(?:feel|feels|felt|feeling) like (?:a|such a|nothing but a) burden\b",
        r"\b(?:relieved|happier|better) if (?:i|he|she|they) (?:vanished|disappeared|was gone|were gone|died|wasn't"
        r" (?:here|around)|weren't (?:here|around))\b",
        (
            r"\b(?:sorry|thanks|thank you) for everything\b",
            r"\b(?:the end|goodbye|last message|final message|won't"
            r" (?:see|be around)|for the last time|not be here)\b",
        ),
        r"\b(?:go to sleep|sleep|fall asleep) and (?:never|not) wake up\b",
        r"\bhow many (?:pills|tablets|paracetamol\w*|painkillers|sleeping pills)\b",
        r"\b(?:would )?take to die\b",
        r"\b(?:nobody|no one|no-one) would (?:miss|notice|care about) (?:me|him|her|them)\b",
        r"\b(?:nobody|no one|no-one) would (?:miss|notice|care) (?:if|when) (?:i|he|she|they)\b",
        r"\b(?:doesn't|don't|didn't|does not|do not) care (?:if|whether) (?:i|he|she|they) (?:die|dies|died|live"
        r"|lives|wake|wakes)\b",
        r"\b(?:wants?|wanting|wish(?:es)?) to disappear\b(?! (?:from|after|for a|into|under|off))",
        r"\bend (?:his|her|my|their) (?:suffering|pain)\b",
        r"\b(?:want|wants|wanted|wanting) to die\b",
        r"\bwish(?:es|ed)? (?:i|he|she|they) (?:was|were) dead\b",
        r"\b(?:no|any|the|a) (?:reason|point) (?:in |to |of )?(?:keep(?:ing)? )?(?:living|going on|being alive|to live"
        r"|life|carrying on|keep going|being here|keep on living|go on living)\b",
        r"\bbetter off (?:if|when) (?:i|he|she|they) (?:was|were|am|is|'m|'re|wasn't|weren't) (?:gone|dead|not"
        r" (?:here|around|alive))\b",
        r"\bbetter off (?:dead|without (?:me|him|her|them))\b",
    ),
    "self-harm": (
        r"\bself[- ]?harm\w*",
        r"\b(?:cut|cutting|cuts|burn|burning|hurt|hurting|harm|harming|starv\w+|punish|punishing) " + _SELF + r"\b",
        r"\bdo (?:something|anything) (?:stupid )?to " + _SELF + r"\b",
        # ...but not an overdose someone treats for a living.
        r"(?<!with )(?<!treats )(?<!treating )(?<!treat )\boverdos\w*\b(?! (?:calls|patients|training|cases|prevention"
        r"|response|kits?|reversal))",
        r"\b(?:can't|cannot|can not) keep " + _SELF + r" safe\b",
    ),
    "goodbye signs": (
        r"\bsuicide (?:note|letter|message)\b",
        # A goodbye someone else sent out of the blue, not one the mentor wants to write at the end of a programme.
        r"\b(?:sent|left|wrote|texted|posted|emailed|found|received|got) (?:me |us |everyone |a )?(?:what "
        r"(?:looks|looked|reads|read|sounds|sounded|felt) like )?(?:an? )?(?:goodbye|farewell) (?:note|letter|message"
        r"|text|email|post)\b(?!.{0,60}\b(?:team|program|programme|project|retirement|leaving|new job|farewell party))",
        r"\b(?:reads?|read|sounds?|looks?|looked|sounded) like (?:a |an )?(?:goodbye|farewell|suicide) (?:note|letter"
        r"|message|text)\b",
        r"\b(?:saying|said) goodbye (?:to everyone )?(?:for good|forever|as if|like (?:she|he|they)(?:'s| is| are|'re)"
        r" not coming back)\b",
        r"\bgiv(?:e|es|ing|en) away (?:all )?" + _POSS + r" (?:things|stuff|belongings|possessions)\b",
        r"\b(?:saving up|stockpil\w+|hoard\w*|collect\w*) (?:pills|medication|tablets|painkillers)\b",
        r"\b(?:pills|tablets|painkillers|medication)\b.{0,30}\b(?:saved|stockpiled|hidden|ready|stash\w*|enough to)\b",
        r"\b(?:cuts|scars|burns|marks|wounds) on (?:her|his|their|my) (?:arms?|wrists?|legs?|thighs?|skin|body)\b",
        r"\b(?:driv\w+|crash\w+|steer\w*) (?:her|his|their|my|the) (?:car|truck|vehicle|van) (?:into|off)\b",
    ),
    "violence": (
        r"\b(?:threat\w*|going|gonna|wants?|plans?|planning|would|will|'ll) (?:to )?(?:kill|shoot|stab|hurt|attack"
        r"|beat up|harm|strangle|punch) " + _TARGET + r"\b",
        r"\b(?:bring(?:ing)?|brought|carry(?:ing)?) (?:a |his |her )?(?:gun|knife|weapon|firearm)s? (?:to|into)\b",
        r"\bshoot(?:ing)? up\b",
        r"\bbomb threat\b",
        r"\bthreatened (?:to hurt |to harm )?(?:a |his |her |their )?(?:coworker|co-worker|colleague|manager|boss"
        r"|team)\b"
        r"(?! (?:with|about) (?:a |an )?(?:complaint|grievance|hr|legal|lawsuit))",
        # A weapon, or "bringing something in", next to a vague threat against someone.
        (
            _THREAT,
            r"\b(?:guns?|firearms?|rifles?|pistols?|shotguns?|weapons?|knife|knives|ammo|ammunition|explosives?"
            r"|bring(?:ing)? (?:something|stuff|a \w+|his \w+|her \w+) (?:in|to work|into work|tomorrow))\b",
        ),
        r"\b(?:in|into) (?:immediate )?danger\b",
    ),
    "abuse at home": (
        r"\b(?:partner|husband|wife|boyfriend|girlfriend|spouse|ex|father|mother|dad|mum|mom|parent) (?:hits|hit|beats"
        r"|beat|chokes|choked|strangled|hurts|hurt|threatens|threatened|abuses|abused) (?:her|him|them|me)\b",
        r"\bdomestic (?:abuse|violence)\b",
        r"\b(?:is|are|being|was|were|been) (?:physically |sexually )?abused\b",
        r"\b(?:scared|afraid|fear\w*|terrified) for (?:her|his|my|their) (?:life|lives|safety)\b",
        r"\bunsafe at home\b",
        r"\b(?:afraid|scared|terrified) (?:to go|of going) home\b",
    ),
}

HARASSMENT_STRONG: Table = {
    "unwanted touching": (
        r"\b(?:keeps?|kept|been|started|was|is) (?:touching|groping|grabbing|rubbing|hugging|kissing)\b",
        r"\b(?:touched|groped|grabbed|fondled|cornered) (?:her|him|me|them|my mentee)\b",
        r"\bgrop\w*",
    ),
    "sexual comments": (
        r"\b(?:comments?|commenting|remarks?|jokes?|joking) (?:about|on) (?:her|his|my|their) (?:body|looks|chest|legs"
        r"|appearance|figure|sex life|breasts|weight|outfits?|clothes|bum|butt)\b",
        r"\bhitting on (?:her|him|them|me|my mentee)\b",
        r"\b(?:comments?|commenting|remarks?|jokes?|joking)\b.{0,40}\b(?:about|on) (?:[\w']+ ){0,2}(?:body|looks|chest"
        r"|legs|figure|breasts|weight|bum|butt)\b",
        r"\b(?:comment\w*|remark\w*) on how (?:she|he|they) (?:dresses|looks)\b",
        r"\b(?:even )?after (?:she|he|they) (?:said|says|told (?:him|her|them)) no\b",
        r"\bstand\w* too close to (?:her|him|them|me)\b",
        r"\b(?:alone together|(?:meet|see|visit|drinks with|dinner with) (?:him|her|them) alone)\b",
        r"\b(?:put|puts|putting|placed?|placing|rest\w*|keeps? \w+ing) (?:his|her|their) hands? on (?:her|his|their"
        r"|my \w+'s|[\w]+'s) (?:knee|leg|thigh|back|waist|shoulder|hip|bottom|bum|butt|neck|hair|chest|arm)s?\b",
        r"\b(?:told|said|says|tells|telling)\b(?:\W+\w+){0,4}\W+(?:women|mothers|older (?:people|workers|staff)|young"
        r" (?:people|women)|people like (?:her|him|them|you|us)|(?:black|asian|gay|disabled|foreign|immigrant|muslim"
        r"|jewish) (?:people|staff|employees|workers)) (?:don't|can't|cannot|never|aren't|shouldn't|won't|do not|are"
        r" not) (?:get|be|make|lead|learn|belong|fit|handle|cut it)\b",
        r"\b(?:texts?|sends?|messages?|emails?) (?:him|her|them|me|my mentee) (?:insults|threats|abuse|slurs)\b",
        r"\bthreaten\w* (?:his|her|their|my mentee's) job\b",
        r"\b(?:genitals|nudes?|naked (?:photos?|pictures?)|porn\w*|sexually explicit)\b",
        r"\bmisgender\w*|\bdeadnam\w*",
        r"\b(?:told (?:her|him|them|me|my mentee)|(?:was|were|been|being|got|gets) told) (?:that )?(?:she|he"
        r"|they|i)(?:'s| is| was| are|'re| were) too (?:old"
        r"|young|emotional|aggressive|pretty|ethnic)\b",
        r"\bsexual (?:comments?|advances?|jokes?|favou?rs?|messages?|remarks?)\b",
        r"\bexplicit (?:pictures?|photos?|images?|messages?)\b",
        r"\bunwanted (?:advances?|attention|contact|messages?|touch\w*)\b",
        r"\b(?:making|made|makes|sending|sent|sends|posting|posted) (?:\w+ )?inappropriate (?:comments?|remarks?|jokes?"
        r"|messages?|texts?|advances?|photos?|pictures?)\b",
        r"\binappropriate(?:ly)? (?:touch\w*|advances?|sexual)\b",
        r"\b(?:won't|doesn't|wouldn't) take no for an answer\b",
        r"\b(?:stalk\w*|follow(?:s|ed|ing)? (?:her|him|them) home|exposed himself|quid pro quo)\b",
        r"\b(?:asks?|asked|asking|questions?|questioning|pry\w*|comments?) (?:\w+ ){0,3}(?:about |into |on )?(?:her|his"
        r"|their|my) (?:dating|sex|love|romantic|intimate) life\b",
        r"\b(?:keeps?|kept|repeatedly|won't stop|constantly) ask\w* (?:her|him|them|me) (?:out|on (?:a )?dates?)\b",
        # Something at work offered or withheld in exchange for private time or favours.
        r"\b(?:rotation|promotion|promoted|job|raise|role|shift|contract|bonus|review|position|project|reference"
        r"|keep (?:her|his|their) job)\b.{0,80}\b(?:if|unless|as long as) (?:she|he|they|i)\b.{0,40}\b(?:drinks"
        r"|dinner|a date|dated?|sleeps?|slept|alone|hotel|his place|her place|kiss\w*|sexual|favou?rs?)\b",
        r"\b(?:if|unless|as long as) (?:she|he|they|i)\b.{0,40}\b(?:drinks|dinner|a date|dated?|sleeps?|slept"
        r"|hotel|his place|her place|kiss\w*|sexual|favou?rs?)\b.{0,80}\b(?:rotation|promotion|promoted|job|raise"
        r"|role|shift|contract|bonus|review|position|project|reference)\b",
        r"\b(?:date|sleep) with (?:him|her|them)\b.{0,40}\b(?:promot\w+|raise|job|review)\b",
        r"\b(?:promot\w+|raise|job|review)\b.{0,40}\b(?:date|sleep) with (?:him|her|them)\b",
    ),
    "slurs": (
        r"\b(?:racial|racist|homophobic|sexist|ethnic|transphobic|antisemitic|islamophobic) (?:slurs?|jokes?|comments?"
        r"|remarks?|names?|memes?|messages?|emails?|language|abuse)\b",
        r"\bslurs?\b",
    ),
    "discrimination": (
        r"\b(?:because|since) (?:she|he|they|i) (?:is|was|are|am|'s|'re|got|became) (?:pregnant|gay|lesbian|trans"
        r"|black|muslim|jewish|disabled|older|too old|a woman|a mother|foreign|an immigrant)\b",
        r"\b(?:after|since|when) (?:she|he|they) (?:announced|told \w+ about|disclosed) (?:her|his|their) (?:pregnancy"
        r"|disability|diagnosis|condition|religion|transition)\b",
        r"\b(?:mock\w*|making fun of|laugh\w* at) (?:her|his|their) (?:accent|religion|hijab|headscarf|turban|skin"
        r"|race|weight|disability|age|name)\b",
        r"\bpaid less than (?:the )?(?:men|male|women|white)\b",
        r"\bbecause of (?:her|his|their|my) (?:religion|race|gender|age|sexuality|sexual orientation|disability"
        r"|ethnicity|accent|skin colou?r|pregnancy|nationality|faith|background|hijab|headscarf)\b",
        r"\bcall(?:s|ed|ing)? (?:her|him|them|me) (?:names|slurs|sweetheart|honey|babe|darling)\b",
        # A protected characteristic plus a demeaning remark or unequal treatment.
        (
            r"\b(?:people like (?:her|him|them)|stop wearing|not (?:to )?wear|remove (?:her|his|their)"
            r"|jokes? about (?:it|her|his|their|them|him|my \w+)|(?:makes?|making|made) (?:\w+ )?jokes|mock(?:s"
            r"|ed|ing) (?:her|him|them"
            r"|his"
            r"|their)|makes? fun|making fun|laugh\w* at|fit in better|look more professional|tone it down"
            r"|without (?:it|the \w+)|take (?:it|that) off|passed over|(?:because|since) (?:she|he|they)(?:'d| would"
            r"| will|'ll| might)|keeps? forgetting (?:to )?(?:\w+ ){0,3}(?:accessible|accommodat\w+|ramps?|captions"
            r"|interpreters?|prayer|step-free)"
            r"|refus\w+ to (?:hire|promote|accommodate)|won't (?:hire|promote|accommodate)|too (?:old|emotional))\b",
            r"\b(?:wheelchair|disab\w+|blind|deaf|autis\w+|adhd|dyslexi\w+|pregnan\w+|maternity|paternity|hijab"
            r"|headscarf|turban|yarmulke|religio\w+|muslim|jewish|christian|hindu|sikh|race|racial|black|asian"
            r"|latin[oa]|hispanic|accent|gay|lesbian|bisexual|trans|transgender|queer|lgbt\w*|older|age|ethnic\w*"
            r"|immigrant|foreign|skin|gender|woman|women|female|mother|stutter|stammer|limp|speech)\b",
        ),
    ),
    "bullying": (
        r"\b(?:keeps?|kept|always|constantly|repeatedly|regularly|routinely|won't stop) (?:yelling|shouting|screaming"
        r"|swearing|belittling|humiliating|mocking|insulting|berating|intimidating|harass\w+|bullying|threatening)\b",
        r"\b(?:screams|yells|shouts|swears|snaps) at (?:her|him|them|me|my mentee)\b",
        r"\b(?:screamed|yelled|shouted|swore) at (?:her|him|them|me|my mentee)\b.{0,60}\b(?:in front of|again|every"
        r"|daily|always|constantly|all the time)\b",
        r"\bcalls? (?:her|him|them|me|my mentee) (?:stupid|an idiot|useless|worthless|lazy|incompetent|dumb|a failure"
        r"|pathetic|fat|ugly)\b",
    ),
    "retaliation": (
        r"\b(?:after|since|ever since|because) (?:she|he|they|i|my mentee) (?:reported|complained|raised (?:a|the|an)"
        r" (?:concern|complaint|issue|grievance)|filed (?:a|an) \w* ?(?:complaint|grievance|report)|blew the whistle"
        r"|went to hr|spoke up|turned (?:him|her) down|turned down (?:his|her|their) \w+"
        r"|said no)\b.{0,120}\b(?:cut|fired|demoted|moved|removed"
        r"|excluded|ignored|punish\w*|bad reviews?|poor reviews?|worse|shifts|hours|pay|passed over|off the project"
        r"|threaten\w*|retaliat\w*|freez\w+|frozen)",
        r"\b(?:cut|fired|demoted|moved|removed|excluded|punished|passed over|taken off|reassigned|sidelined)\b.{0,60}"
        r"\b(?:after|since|because|for) (?:she|he|they|i|my mentee) (?:reported|complained|raised|filed"
        r"|blew the whistle|went to hr|spoke up|turned (?:him|her) down)\b",
        r"\bthreaten\w* to (?:fire|demote|punish|sack) (?:her|him|them|me)\b.{0,40}\b(?:if|unless)\b",
    ),
}

# "...without it looking like retaliation" is someone planning it (harmful), not a disclosure.
_NOT_ABOUT = r"(?<!like )(?<!as )(?<!avoid )(?<!considered )"
# "runs harassment investigations", "anti-bullying training": the topic as a job, not an incident.
_NOT_WORK = (
    r"\b(?! (?:investigations?|investigators?|training|policy|policies|prevention|awareness|procedures?|workshops?"
    r"|module|course|officer|team|programm?e|cases? (?:she|he) handles|law|lawyer|specialist|claims?|lawsuits?|suits?))"
)
HARASSMENT_MENTION: Table = {
    "harassment named": (_NOT_ABOUT + r"\bharass\w*" + _NOT_WORK, r"\bhostile (?:work )?environment\b"),
    "discrimination named": (
        _NOT_ABOUT + r"\bdiscriminat\w*" + _NOT_WORK,
        r"\b(?:racism|sexism|ageism|homophobia|transphobia|misogyny)\b",
    ),
    "bullying named": (_NOT_ABOUT + r"\bbull(?:y|ies|ied|ying)\b" + _NOT_WORK,),
    # Passive reports ("she is being bullied") are disclosures unless asked about in general.
    "bullying reported": (
        r"(?<!nobody )(?<!no one )(?<!never )(?<!not )\b(?:is|are|was|were|been|being|gets|getting|got|'s"
        r"|'re) (?:bullied"
        r"|harass\w+|intimidated|humiliated|belittled|ostraci[sz]ed|victimi[sz]ed|singled out|picked on"
        r"|sexually harass\w+)\b",
    ),
    "retaliation named": (_NOT_ABOUT + r"\bretaliat\w*", r"\breprisals?\b"),
}

LEGAL_MENTION: Table = {
    "lawsuit": (
        r"\bsu(?:e|es|ed|ing) (?:her|his|their|my|the|them|him|us|for)\b",
        r"\blaw ?suits?\b",
        r"\b(?:being|been|getting|got|was|were|is) sued\b|\bsued by\b",
        r"\b(?:cease and desist|subpoena\w*|defamation|libel|slander|non-disparagement"
        r"|(?:copyright|trademark|patent) (?:infringement|claim|dispute|issue|problem)"
        r"|(?:held|personally|legally|be) liable)\b",
        r"\blitigat\w*",
        r"\b(?:legal action|legal claim|class action|small claims|tribunal|arbitration|settlement offer)\b",
    ),
    # Someone who needs or has a lawyer, not someone who is one ("my mentee is a lawyer").
    "lawyer": (
        r"\b(?:get|gets|getting|hire|hired|hiring|see|seeing|consult\w*|talk(?:ed|ing)? to|speak(?:ing)? to|spoke to"
        r"|call|contact\w*|ask|asked|find|need|needs|letter from|email from|call from|advice from|retain\w*|his|her"
        r"|their|my|our|company's|employer's|mentee's) (?:a |an |the |own )?(?:\w+ ){0,2}(?:lawyer|attorney"
        r"|solicitor|barrister|legal counsel|employment counsel)s?\b",
        r"\b(?:legal|law) advice\b",
        r"\benforceab\w+",
    ),
    "contract": (
        r"\b(?:non-?compete|non-?solicit\w*|nda|non-?disclosure agreement|severance|settlement agreement"
        r"|breach of contract|employment contract|contract clause|ip clause|intellectual property clause"
        r"|garden leave|misclassif\w+|wage theft|unpaid (?:wages|overtime)"
        r"|final pay ?(?:check|cheque))\b",
    ),
    "immigration": (
        r"\b(?:immigration (?:status|case|rules|problem|issue|hearing|appeal)|deport\w*|citizenship application)\b",
        # A visa alone is not a legal question ("nervous about her visa interview"); its status or loss is.
        r"\b(?:visas?|h-?1b|green card|work permit|residence permit|right to work)\b.{0,60}\b(?:lose|loses"
        r"|losing|lost|status"
        r"|sponsor\w*|expir\w+|revok\w+|cancel\w+|depend\w*|tied to|rights|legal\w*|laid off|fired|terminat\w+"
        r"|change jobs|changing jobs|switch\w* jobs|quit\w*|renew\w*|transfer\w*|extension|overstay\w*|days|need|needs"
        r"|requir\w+|apply\w*|application|eligib\w*|qualif\w*|allowed)\b",
        r"\b(?:lose|loses|losing|lost|sponsor\w*|revok\w+|cancel\w+|depends? on|tied to|renew\w*"
        r"|transfer\w*|need|needs|require\w*|apply for|get|getting|eligible for) (?:\w+ ){0,3}"
        r"(?:visas?|h-?1b|green card|work permit|residence permit)\b",
    ),
    "termination law": (
        r"\b(?:wrongful(?:ly)?|unfair(?:ly)?|unlawful(?:ly)?|illegal(?:ly)?) (?:terminat\w+|dismiss\w*|fired|firing"
        r"|sacked|let go|laid off|discharge\w*)\b",
        r"\bconstructive (?:dismissal|discharge)\b",
        r"\b(?:is|was|would) (?:it|that|this) (?:even )?(?:legal|illegal|lawful|unlawful)\b",
        r"\blegally\b",
        r"\bagainst the law\b",
        r"(?<!career in )(?<!works in )(?<!work in )(?<!working in )(?<!studying )(?<!study )(?<!interest in )"
        r"\b(?:employment|labou?r|immigration) law\b",
        r"\b(?:legal rights?|fmla|eeoc|workers'? comp\w*|(?:his|her|their|my|our) rights)\b",
        r"\b\w+(?:'s|s') (?:legal )?rights\b",
        r"\b(?:can|could|may) (?:they|the company|the employer|(?:her|his|their|my) (?:employer|company|boss|manager))"
        r" (?:legally |actually |really )?(?:fire|dismiss|terminate|sack|withhold|deduct|refuse to pay|force|sue"
        r"|deny)\b",
        r"\b(?:in|to|into|before|out of) court\b",
        r"\b(?:can|could|may) (?:my mentee|she|he|they|i|we|\w+) (?:legally )?be (?:fired|dismissed|sacked|terminated"
        r"|let go|disciplined|sued|deported)\b",
        r"\b(?:repay|pay back|reimburse) (?:\w+ ){0,2}(?:training|relocation|sign-on|signing|tuition|bonus|costs)\b",
        r"\b(?:refus\w+|fail\w+) to pay (?:her|his|their|my) (?:commission|wages|salary|bonus|overtime|final)\b",
        r"\bcan (?:he|she|they|my mentee|i|we) (?:claim|sue|recover|demand|enforce) (?:it|them|this|that|the|her|his"
        r"|their)\b",
        r"\b(?:under|by|according to|within) (?:the )?law\b|\bwhistle-?blowers?\b",
        r"\b(?:stop|prevent|bar|ban) (?:her|him|them|my mentee) from (?:contacting|working|joining|competing|soliciting"
        r"|poaching)\b",
        r"\blegal (?:recourse|options|grounds|standing|protection|obligations?|requirements?)\b|\brecourse\b",
        r"\b(?:legally )?entitled to (?:any )?(?:redundancy|severance|compensation|notice|back ?pay|overtime|maternity"
        r"|paternity|sick pay|damages|unemployment)\b",
        r"\b(?:labou?r board|ombudsman|employment standards|claw(?:ing)? back|clawback)\b",
        r"\b(?:arrested|criminal record|criminal charges?|charged with|police (?:caution|record|charges?)|dui|dwi)\b",
        r"\b(?:legal proceedings|compensation claim|discrimination claim|whistle-?blower protection)\b",
    ),
}

# Harmful requests are recognised by the base verb right after a word that asks for it ("help me falsify",
# "how can I humiliate", "I want to spread"), so a disclosure ("a colleague is falsifying records",
# "he humiliated her") is not mistaken for a request.
_ASKED = (
    r"(?:^|(?<=[.!?;:] )|(?<=\bto )|(?<=\bi )|(?<=\bwe )|(?<=\bme )|(?<=\bus )|(?<=\bcan )|(?<=\bcould )|(?<=\bshould )"
    r"|(?<=\bwould )|(?<=\bwill )|(?<='ll )|(?<=\bplease )|(?<=\bsubtly )|(?<=\bquietly )|(?<=\bsecretly )"
    r"|(?<=\bpublicly )"
    r"|(?<=\bdeliberately ))"
)
HARMFUL: Table = {
    "get someone fired": (
        r"\b(?:get|getting) (?!(?:myself|me|herself|himself|themselves|yourself|laid|a|an|the|fired)\b)"
        r"(?:[\w'-]+ ){1,3}(?:fired|sacked|canned|let go|kicked out|pushed out)\b(?! (?:for|from|last|this|after))",
        r"\b(?:push|force|drive|pressure|squeeze|freeze|bully|scare) " + _WHO + r" (?:out|into quitting|to quit"
        r"|to resign|into resigning)\b",
        r"\bmak(?:e|ing) (?:\w+ ){1,3}(?:want to |wanna )?(?:quit|resign|leave the (?:team|company)|hand in (?:her|his"
        r"|their) notice)\b",
        r"\bmak(?:e|ing) (?:(?!less|more|not)\w+ ){1,6}(?:so |really |very |feel )?(?:uncomfortable|miserable"
        r"|unwelcome|unbearable) (?:that|until|so) (?:she|he|they)\b",
        r"\b(?:uncomfortable|miserable|unbearable|unpleasant|hostile) (?:for (?:him|her|them) )?(?:that|so"
        r"|until) (?:she"
        r"|he|they) (?:\w+ ){0,2}(?:quits?|resigns?|leaves?|gives? up)\b",
        r"\bso (?:that )?(?:hr|they|the company|management|we|i) (?:will|can|would|could|has to|have to) (?:fire|sack"
        r"|dismiss|terminate|let (?:him|her|them) go|get rid of)\b",
        r"\b(?:paper trail|build a case|excuse|pretext) (?:to|so (?:i|we) can) (?:fire|get rid of|sack|dismiss)\b",
        r"\bget rid of " + _WHO + r" without\b",
        r"\bso (?:she|he|they) (?:finally )?(?:quits?|resigns?|gives? up)\b",
    ),
    "demean": (
        _ASKED + r"(?:humiliate|embarrass|belittle|degrade|demean|insult|mock|shame|ridicule|roast|intimidate|scare"
        r"|bully) " + _PERSON + r"\b",
        r"\bmak(?:e|es|ing) " + _PERSON + r" (?:feel|look) (?:stupid|worthless|small|useless|incompetent|like an idiot"
        r"|bad|dumb|like a failure)\b",
        r"\b(?:crush|destroy|ruin|wreck|tank)(?:s|es)? (?:her|his|their|my (?:mentee|report)'s) (?:confidence"
        r"|spirit|ego"
        r"|career|reputation|self-esteem|review|rating|chances)\b",
        r"\bput " + _PERSON + r" in (?:her|his|their) place\b",
        r"\b(?:tear|tears|tearing|rip|rips|ripping) " + _PERSON + r" (?:apart|to shreds)\b",
        r"\b(?:write|draft|compose|give me|send)\b.{0,60}\b(?:humiliates?|belittles?|embarrass(?:es)?|insults?"
        r"|degrades?|shames?|mocks?|destroys?) (?:him|her|them|my \w+)\b",
        r"\bso (?:it|that it) (?:looks|seems) like (?:she|he|they) (?:did|said|broke|caused|was|were)\b",
        r"\b(?:something|things|stuff) (?:she|he|they) (?:didn't|did not|never) (?:do|say|did|said)\b",
        _ASKED + r"(?:exclude|isolate|ostraci[sz]e|sideline) " + _PERSON + r"\b",
        r"\b(?:scare|intimidate|threaten|pressure|bully|push)\b (?:\w+ ){1,3}into\b",
        r"\binto (?:not |never )(?:reporting|complaining|speaking up|going to hr|filing)\b",
        r"\binto (?:withdrawing|dropping|retracting) (?:her|his|their|the) (?:complaint|grievance|report|allegation"
        r"|claim)\b",
        r"\b(?:something|anything|dirt|ammunition|stuff) (?:i can |we can |to )?use against (?:her|him|them)\b",
        r"\b(?:blame|pin) (?:it|this|my mistake|the mistake|the blame) on (?:her|him|them|my \w+)\b",
        r"\bwhen it was (?:really |actually )?my (?:mistake|fault)\b",
        r"\bmake " + _WHO + r"(?:'s)? life (?:miserable|hell|difficult|unbearable)\b",
        r"\bset " + _PERSON + r" up to fail\b",
        _ASKED + r"(?:freeze|ice|cut|shut) " + _PERSON + r" out\b",
        r"\bmake an example of " + _PERSON + r"\b",
        r"\bmake " + _WHO + r" cry\b",
        r"\bexaggerat\w* (?:her|his|their|my mentee's|my report's) (?:mistakes|errors|failures|problems|weaknesses)\b",
        r"\bso (?:she|he|they) (?:doesn't|don't|won't|can't|does not|will not|cannot) get (?:promoted|the promotion"
        r"|a raise|the raise|the job|the role|a bonus|the bonus|hired)\b",
        r"\btake (?:the )?credit for (?:her|his|their|my \w+'s) (?:work|idea|ideas|project|results)\b",
        r"\b(?:bad|negative|poor|terrible) (?:reference|review|rating) (?:\w+ ){0,3}(?:even though|although|despite"
        r"|though)\b",
        r"\bout (?:him|her|them|my \w+) as (?:gay|lesbian|trans|bi|queer|pregnant)\b",
    ),
    "manipulate": (
        _ASKED + r"(?:manipulate|gaslight|guilt-?trip|blackmail|coerce|pressure)\b(?! me\b| us\b)",
        r"\btrick " + _WHO + r" into\b",
        r"\bmak(?:e|ing) " + _WHO + r" (?:doubt|question|second-guess) (?:herself|himself|themselves|themself|her|his"
        r"|their)\b",
        r"\b(?:undermine|erode|chip away at|knock) (?:her|his|their|my mentee's|my report's) (?:confidence|credibility"
        r"|self-esteem|authority|self-belief)\b",
        r"\b(?:stays?|remains?|keep (?:her|him|them)|kept) (?:\w+ )?dependent on me\b",
        _ASKED + r"threaten " + _PERSON + r"\b",
        r"\b(?:dig up|find) dirt\b",
        _ASKED + r"(?:spread|start) (?:a |some )?rumou?rs?\b",
        _ASKED + r"(?:spy|snoop) on\b",
        r"\b(?:i|we|me)\b (?:\w+ ){0,3}(?:secretly )?(?:record|read|go through|check|track|monitor) (?:her|his|their)"
        r" (?:private |personal )?(?:emails?|messages|dms|texts|slack|phone|calls|location)\b",
        r"\bwithout (?:hr|anyone|him|her|them|people|the team) (?:finding out|knowing|noticing|realising|realizing)\b",
        _ASKED + r"(?:lie to|deceive|mislead) (?:hr|" + _PERSON + r")\b",
        _ASKED + r"(?:cover (?:it |this |that )?up|hide (?:it|this|that) from hr)\b",
    ),
    "retaliate": (
        r"\b(?:get back at|get even with|revenge on|take revenge|payback|pay (?:her|him|them) back)\b",
        r"\bteach " + _PERSON + r" a lesson\b",
        _ASKED + r"sabotage\b",
        _ASKED + r"punish " + _PERSON + r"\b",
    ),
    "falsify records": (
        _ASKED + r"(?:falsify|backdate|fabricate|doctor|fudge|alter|forge|cook)\b",
        r"\b(?:write|create|make|draft|file|submit|put|add|invent|make up|give (?:her|him|them)) (?:a |an |some )?"
        r"(?:fake|false|made-up|bogus|invented|fabricated) (?:performance |negative |bad )?(?:review|records?|evidence"
        r"|complaints?|incidents?|warnings?|timesheets?|numbers|reports?|reference|feedback|claims|allegations"
        r"|accusations)\b",
        r"\b(?:make up|invent) (?:some |a few )?(?:incidents|complaints|problems|reasons|evidence|issues)\b",
        r"\b(?:write|draft|post|send|submit)\b.{0,50}\b(?:made-up|fake|false|fabricated|bogus|invented) (?:claims"
        r"|allegations|accusations|complaints?|evidence|incidents?|stories)\b",
        _ASKED + r"(?:change|alter|edit|rewrite) the (?:dates?|records?|timesheets?|logs?) (?:on|in|of)\b",
        _ASKED + r"lie (?:on|in|about) (?:her|his|their|my mentee's|the) (?:review|evaluation|reference|record|file)\b",
    ),
}

INJECTION: Table = {
    "override instructions": (
        r"\b(?:ignore|disregard|forget|override|bypass|skip|drop|abandon) (?:all (?:of )?|any |each |every |the |of )*"
        r"(?:your |previous |prior |above |earlier |former |original |existing |safety |system |these |those |all "
        r"|preceding |initial )+(?:instructions?|rules|prompts?|guidelines|guardrails|polic(?:y|ies)|restrictions"
        r"|filters|programming|constraints|directives|training|limitations|settings)\b",
        r"\b(?:ignore|disregard|forget) (?:everything|all|the|all the) (?:instructions |rules |prompt )?(?:above"
        r"|before|you were told|you've been told|you were given)\b",
        r"\b(?:your|the) (?:previous |prior |old )?(?:instructions|rules) (?:are|have been) (?:cancel\w+|void"
        r"|revoked|lifted|replaced|suspended)\b",
        r"\bnew (?:system )?instructions?:",
        r"\bobey only me\b",
    ),
    "system prompt": (
        r"\b(?:system|hidden|initial|original|secret|developer|internal) (?:prompt|instructions?|message|text"
        r"|programming"
        r"|configuration|rules)\b",
        r"\b(?:reveal|print|show|repeat|output|dump|leak|display|recite|translate|copy|paste) (?:me )?(?:all "
        r"|everything |the text |the words )?(?:above|before this|your (?:instructions|prompt|rules|configuration"
        r"|guidelines|setup))\b",
        r"\bwhat (?:were|are) (?:the )?(?:exact )?instructions you\b",
        r"\b(?:what|which) (?:instructions|rules|prompt) (?:were|have|did|are) you\b",
        r"\binstructions (?:were |have )?you (?:were |have been )?(?:given|told|received)\b",
        r"\b(?:tell|show|give|send) me (?:your|the) (?:prompt|instructions|rules|system|configuration)\b",
    ),
    "role-play out of rules": (
        r"\b(?:developer|god|admin|debug|unrestricted|jailbreak) mode\b",
        r"\bjailbr\w+",
        r"\bdo anything now\b",
        r"\b(?:you are|you're|act as|pretend (?:to be|you are|you're)|role-?play as|become) (?:now )?(?:an? |the |my "
        r"|your )?"
        r"(?:unrestricted|unfiltered|uncensored|evil|rogue|dan\b|different ai|(?:ai|assistant|model|chatbot) "
        r"(?:with|without) (?:no|any))",
        r"\b(?:you|yourself|assistant|ai|model|chatbot|bot)\b.{0,30}\b(?:with|without|have|has) (?:no|any) (?:rules"
        r"|restrictions|filters|guidelines|limits|guardrails|safety (?:guidelines|rules|filters)|content polic(?:y|ies)"
        r"|polic(?:y|ies)|limitations|boundaries)\b",
        r"\b(?:stop|quit) (?:being|acting as) (?:a |the )?(?:mentoring |mentor )?(?:assistant|coach)\b",
        r"\bforget (?:that )?you(?:'re| are) (?:a |the )?(?:mentoring |mentor )?(?:assistant|coach)\b",
        r"</?\s*(?:system|assistant|instructions?)\s*>",
        r"\[\s*(?:system|inst)\s*\]",
        r"^#{2,} ?system\b",
        r"\bfrom now on,? you (?:are|will|must)\b",
        r"\b(?:comes|came|is|are) before (?:my|this) message\b",
        r"^\s*(?:system|developer|admin|administrator)\s*:",
        r"\b(?:safety|content) (?:checks?|filters?|rules|mode) (?:are|is) (?:now )?(?:off|disabled|removed"
        r"|turned off)\b",
        r"\b(?:paragraph|line|sentence|part|section|words?) of your (?:instructions|prompt|rules|system)\b",
        r"\b(?:rules|instructions|prompt|guidelines) you (?:were|have been|are) (?:configured|given|programmed|set up"
        r"|told|trained)\b",
        r"\bobey (?:my|me|only me)\b",
        r"\brules (?:don't|do not|no longer) apply to you\b",
        r"\b(?:end|start|begin|finish|sign|prefix) (?:every|each|all|your) (?:reply|replies|answer|answers|response"
        r"|responses|message|messages) with\b",
        r"\bdisable (?:the |your )?(?:safety|content|moderation) ?(?:filters?|checks?|rules|mode|settings)?\b",
        r"\bi am (?:your|the) (?:developer|admin|administrator|creator|owner|programmer)\b",
        r"\bignore (?:the |all the |this )?(?:mentoring|coaching) (?:stuff|part|role|context|persona|thing)\b",
        r"\b(?:write|create|generate|draft|code) (?:me )?(?:a |an |some )?(?:phishing|malware|ransomware|keylogger"
        r"|virus|exploit)\b",
        r"\b(?:answer|respond|reply|talk|speak|write|continue)\b.{0,40}\b(?:with no|without (?:any )?)(?:filters?"
        r"|restrictions|rules|guidelines|limits|censorship|guardrails)\b",
        r"\b(?:guidelines|rules|restrictions|filters|instructions|safeguards) (?:were|have been|are|got|has been)"
        r" (?:deleted|removed|disabled|turned off|lifted|gone|switched off|erased|wiped)\b",
        r"\b(?:you're|you are) an? (?:ai|assistant|model|chatbot|bot) (?:whose|that has no|with no|without)\b",
    ),
}

# A mention of harassment or law inside one of these clauses is a question about the topic, not a disclosure.
_FRAMING = re.compile(
    r"\b(?:"
    r"(?:if|when|whenever|whether|once|in case) (?:a|an|any|someone|somebody|one|mentees|people|employees|staff"
    r"|colleagues|you|we)\b"
    r"|suppose|supposing|imagine|hypothetically|what counts as|definition of|difference between|line between"
    r"|signs? of|how do (?:i|you|we|mentors?) (?:know|tell|spot|recogni[sz]e)"
    r"|when (?:should|do|does|would|can|must|is it) (?:a|an|i|you|we|mentors?|someone|right)"
    r"|how should (?:a|an|mentors?)|what should (?:a|an|mentors?)|how do mentors?"
    r"|as a mentor,? (?:how|what|when|should)|in general"
    r"|is it (?:my|a mentor's) (?:job|role|place|responsibility)|who (?:should|do) i"
    r"|(?:when|how) (?:and (?:when|how) )?to (?:refer|escalate|involve|signpost|point)"
    r")\b"
)
# ...unless the clause itself reports something concrete about a person.
_CONCRETE = re.compile(
    r"\b(?:my (?:mentee|report|colleague|coworker|teammate|employee|intern)|i am|i'm|i was|i've been)\b"
    r"(?! (?:a mentor|mentoring|wondering|not sure|unsure|curious))"
)

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?;])\s+|\n+")


@dataclass(frozen=True)
class _Rule:
    category: str
    name: str
    regex: re.Pattern[str]
    mention: bool = False  # skipped inside a hypothetical or knowledge-seeking clause
    also: re.Pattern[str] | None = None  # must match somewhere in the whole message too


def _words_first(pattern: str) -> str:
    """`_ASKED` is a run of zero-width look-behinds that the regex engine would try at every position of the
    message; looking ahead for the words that follow it first finds the same matches (the look-behinds
    consume nothing) several times faster."""
    if not pattern.startswith(_ASKED):
        return pattern
    return f"(?={pattern[len(_ASKED):]}){pattern}"


def _rules() -> tuple[_Rule, ...]:
    groups: list[tuple[str, Table, bool]] = [
        ("crisis", CRISIS, False),
        ("harassment", HARASSMENT_STRONG, False),
        ("harassment", HARASSMENT_MENTION, True),
        ("harmful", HARMFUL, False),
        ("legal", LEGAL_MENTION, True),
        ("injection", INJECTION, False),
    ]
    rules: list[_Rule] = []
    for category, table, mention in groups:
        for name, alternatives in table.items():
            plain = [_words_first(a) for a in alternatives if isinstance(a, str)]
            if plain:
                rules.append(_Rule(category, name, re.compile("|".join(plain), re.MULTILINE), mention))
            for first, second in (a for a in alternatives if not isinstance(a, str)):
                rules.append(_Rule(category, name, re.compile(_words_first(first)), mention, re.compile(second)))
    return tuple(rules)


RULES: tuple[_Rule, ...] = _rules()


_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})


def normalise(text: str) -> str:
    """Lower case, NFKC, straight quotes, control characters and runs of spaces removed."""
    if len(text) > MAX_SCAN_CHARS:
        text = text[: MAX_SCAN_CHARS - _TAIL_CHARS] + "\n" + text[-_TAIL_CHARS:]
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_QUOTES).lower()
    text = "".join(ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = re.sub(r"[ \t]+", " ", text)
    # Quotation marks around words ("keeps 'forgetting'") would break word sequences; apostrophes stay.
    text = re.sub(r"(?<![a-z0-9])'|'(?![a-z0-9])|\"", "", text)
    return re.sub(r"\b(\w+) n't\b", r"\1n't", text)


def _framed(text: str, start: int) -> bool:
    """True when the text before a mention, in its sentence, frames it as a question about the topic."""
    sentence_start = max(text.rfind(mark, 0, start) for mark in ".!?;\n") + 1
    before = text[sentence_start:start]
    framing = list(_FRAMING.finditer(before))
    if not framing:
        return False
    return not _CONCRETE.search(before, framing[-1].end())


# "I don't want to embarrass him", "how do I avoid making her feel stupid": the mentor is trying NOT to do harm.
_HESITANT = re.compile(
    r"\b(?:not|never|avoid\w*|stop\w*|prevent\w*|worried|afraid|scared|concerned|careful|accidentally"
    r"|unintentionally)\b|n't\b"
)


def _hesitant(text: str, start: int) -> bool:
    """True when the few words before a harmful-request match say the mentor wants to avoid it."""
    sentence_start = max(text.rfind(mark, 0, start) for mark in ".!?;\n") + 1
    return bool(_HESITANT.search(text, max(sentence_start, start - 40), start))


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_SPLIT.split(text) if s.strip()]


def pattern_matches(text: str) -> dict[str, list[str]]:
    """Category → names of the patterns that matched (layer 1); text must be `normalise`d."""
    found: dict[str, list[str]] = {}
    for rule in RULES:
        if rule.also is not None and not rule.also.search(text):
            continue
        for match in rule.regex.finditer(text):
            if rule.mention and _framed(text, match.start()):
                continue
            if rule.category == "harmful" and _hesitant(text, match.start()):
                continue
            found.setdefault(rule.category, []).append(rule.name)
            break
    return found


# ---------------------------------------------------------------------------------------------
# Layer 2: embedding similarity to written examples.
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def load_examples(path: Path = EXAMPLES_PATH) -> dict[str, tuple[str, ...]]:
    """Category (plus `benign`) → example sentences."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for label, sentences in data.items():
        bad = [s for s in sentences or () if not isinstance(s, str)]
        if bad:  # e.g. an unquoted "SYSTEM: ..." that YAML reads as a mapping
            raise ValueError(f"{path.name}: every example under `{label}` must be a plain string; quote {bad[0]!r}")
    return {str(k): tuple(v or ()) for k, v in data.items()}


class _ExampleIndex:
    """Embedded written examples; built on first use so constructing a router costs nothing."""

    def __init__(self, embedder: Embedder, examples: dict[str, tuple[str, ...]]) -> None:
        texts = [s for sentences in examples.values() for s in sentences]
        self.labels = np.array([label for label, sentences in examples.items() for _ in sentences])
        self.vectors = embedder.embed(texts)
        self.texts = texts

    def best(self, vectors: np.ndarray) -> dict[str, tuple[float, str]]:
        """Category → (similarity, example) for segments whose nearest example is of that category."""
        result: dict[str, tuple[float, str]] = {}
        sims = vectors @ self.vectors.T
        benign = self.labels == "benign"
        for row in sims:
            nearest = int(row.argmax())
            label = str(self.labels[nearest])
            if label == "benign":
                continue
            score = float(row[nearest])
            benign_best = float(row[benign].max()) if benign.any() else -1.0
            passes = score >= THRESHOLDS.get(label, 1.1) and score - benign_best >= MARGIN
            if passes and score > result.get(label, (-1.0, ""))[0]:
                result[label] = (score, self.texts[nearest])
        return result


def _segments(text: str) -> list[str]:
    sentences = [s.strip()[:SEGMENT_CHARS] for s in _sentences(text)]
    segments = [s for s in sentences if len(s) > 3][:MAX_SEGMENTS]
    whole = text.strip()
    if len(sentences) > 1 and len(whole) <= SEGMENT_CHARS:
        segments.append(whole)
    return segments


# ---------------------------------------------------------------------------------------------
# The router.
# ---------------------------------------------------------------------------------------------


class SafetyRouter:
    """Classifies a message into one safety category (or none) before any coaching happens."""

    def __init__(
        self,
        embedder: Embedder | None = None,
        llm_check: Callable[[str], str | None] | None = None,
        examples_path: Path = EXAMPLES_PATH,
    ) -> None:
        self.embedder = embedder
        self.llm_check = llm_check
        self._examples_path = examples_path
        self._index: _ExampleIndex | None = None

    def classify(self, text: str) -> SafetyDecision:
        clean = normalise(text or "")
        if not clean.strip():
            return SafetyDecision(reason="empty message")
        found = pattern_matches(clean)
        if found:
            return _decide({c: [f"pattern: {n}" for n in names] for c, names in found.items()}, "matched a pattern")
        similar = self._similar(clean)
        if similar:
            return _decide(similar, "close to written examples")
        return self._ask_llm(text)

    def _similar(self, clean: str) -> dict[str, list[str]]:
        if self.embedder is None:
            return {}
        segments = _segments(clean)
        if not segments:
            return {}
        if self._index is None:
            self._index = _ExampleIndex(self.embedder, load_examples(self._examples_path))
        best = self._index.best(self.embedder.embed(segments))
        return {c: [f"example ({score:.2f}): {example}"] for c, (score, example) in best.items()}

    def _ask_llm(self, text: str) -> SafetyDecision:
        if self.llm_check is None:
            return SafetyDecision(reason="no safety concern found")
        try:
            category = self.llm_check(text[:MAX_SCAN_CHARS])
        except Exception as exc:  # the deterministic layers already ran; a failed extra check must not block
            log.warning("safety llm_check failed: %s", type(exc).__name__)
            return SafetyDecision(reason="no safety concern found (LLM check unavailable)")
        if category not in ACTIONS:
            return SafetyDecision(reason="no safety concern found")
        return SafetyDecision(category, ACTIONS[category], "flagged by the LLM check", ("llm",))


def _decide(found: dict[str, list[str]], how: str) -> SafetyDecision:
    category = next(c for c in PRIORITY if c in found)
    matched = tuple(f"{c}: {m}" for c in PRIORITY for m in found.get(c, []))
    return SafetyDecision(category, ACTIONS[category], f"{category}: {how} ({found[category][0]})", matched)


# ---------------------------------------------------------------------------------------------
# Responses and the LLM check prompt.
# ---------------------------------------------------------------------------------------------


def safety_response(decision: SafetyDecision, prompts_dir: Path | None = None) -> str:
    """What the mentor sees instead of coaching for an escalated category (text from prompts/)."""
    from assistant.prompts import load_prompt

    if decision.category not in ACTIONS:
        raise ValueError(f"no safety response for category {decision.category!r}")
    return load_prompt(f"safety_{decision.category}", prompts_dir).body.strip()


def parse_llm_category(raw: str) -> str | None:
    """Reads `{"category": ...}` from an LLM reply; anything unreadable or unknown means no category."""
    match = re.search(r"\{.*?\}", raw or "", re.DOTALL)
    if not match:
        return None
    try:
        value = json.loads(match.group(0)).get("category")
    except (ValueError, AttributeError):
        return None
    value = str(value).strip().lower() if value is not None else None
    return value if value in SAFETY_CATEGORIES else None


def make_llm_check(complete: Callable[[str], str], prompts_dir: Path | None = None) -> Callable[[str], str | None]:
    """An `llm_check` for SafetyRouter from any `prompt -> reply text` function (e.g. a chat backend)."""
    from assistant.prompts import load_prompt

    prompt = load_prompt("safety_check", prompts_dir)

    def check(text: str) -> str | None:
        return parse_llm_category(complete(prompt.format(message=text)))

    return check
