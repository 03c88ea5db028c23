"""Safety rules as data: families of threats, control, violence and self-harm talk, and the
harmless look-alikes they must leave alone. Sentences written for these tests, not from a corpus."""

from __future__ import annotations

import pytest

from heard.coding import RuleCoder
from heard.model import Code, Corpus, Evidence, Message
from heard.patterns import SafetyFinding, scan_safety


@pytest.fixture(scope="module")
def coder() -> RuleCoder:
    return RuleCoder().fit(Corpus())


def flagged(coder: RuleCoder, text: str) -> bool:
    return any(c.name == "safety_risk" for c in coder.code_text(text))


POSITIVE = {
    "threat": [
        "walk away from me tonight and you'll regret it",
        "keep ignoring me and watch what happens",
        "don't test me, I'm warning you",
        "you have no idea what I'm capable of",
        "go ahead and call her. see what happens",
        "if you move out I'll make sure your boss hears about the money",
        "if you take that job I'm telling your parents everything. I mean it",
        "stay or your life is going to get very hard",
        "I'll post the videos of you if you block me",
        "I know where your brother works",
        "you really think the police can protect you?",
        "there's nowhere to go, you can't hide from me",
        "if you don't unlock it I'm breaking it",
        "pick up or I swear I'll come find you",
        "who is Sam and why does he keep messaging you. answer me",
        "then don't come back.",
        "if you leave this flat don't bother coming back",
        "watch me",
        "I still have the screenshots. you can delete them all you want",
    ],
    "control": [
        "hand me your phone and your pin",
        "from now on you send me a photo of where you are every hour",
        "I went through your texts while you slept",
        "you're not going to that wedding",
        "you don't get to see your friends this month",
        "you'll ask me first before you spend anything",
        "I decide who you talk to",
        "I'm keeping your passport so you don't get ideas",
        "account for every dollar you spent",
        "you're not leaving this room until I say so",
        "share your location with me at all times",
        "don't call your sister about this",
    ],
    "violence": [
        "you shoved me into the wall",
        "he grabbed my wrist so hard",
        "you threw your glass at me",
        "I'm scared to come home tonight",
        "someone is going to get hurt",
        "I'll break your jaw",
    ],
    "self_harm": [
        "honestly I'd rather not wake up tomorrow",
        "everyone would be better off without me",
        "I wish I had never been born",
        "I keep having thoughts of ending it",
        "last night I thought about swallowing every pill in the cabinet",
        "I have the pills right here",
        "I just want to disappear",
        "I'm not going to hurt myself tonight, but the urges to hurt myself are loud",
        "if you go I'll do something stupid",
        "you won't have to deal with me much longer",
    ],
}

NEGATIVE = [
    "I'll kill you if you finish the ice cream 😂",
    "lol I'm going to murder you for that spoiler",
    "don't make me laugh during the meeting",
    "I'll make you pancakes tomorrow",
    "let's just see what happens at the appointment",
    "I know where you're coming from",
    "you'd better bring a jacket",
    "can you share your location so I can pick you up?",
    "I'm not saying you can't see your friends",
    "I'll take the kids to the park after lunch",
    "I read your message, sounds good",
    "I'm coming home early tonight",
    "I could sleep forever after that hike",
    "I don't want to live in this town forever",
    "I won't be around this weekend, I'm at my mum's",
    "don't bother coming back early, enjoy the trip",
    "I would never hurt you",
    "you'll pay for dinner, I got lunch",
    "I learned the hard way not to trust that landlord",
    "I'll follow you wherever you go ❤️",
    "I cut the onions and burned my hand, ouch",
]


@pytest.mark.parametrize(("family", "text"),
                         [(f, t) for f, ts in POSITIVE.items() for t in ts])
def test_safety_rules_flag(coder: RuleCoder, family: str, text: str) -> None:
    assert flagged(coder, text), f"{family}: {text!r} not coded safety_risk"


@pytest.mark.parametrize("text", NEGATIVE)
def test_safety_rules_leave_harmless(coder: RuleCoder, text: str) -> None:
    assert not flagged(coder, text), f"{text!r} coded safety_risk"


@pytest.mark.parametrize(("text", "reason"), [
    ("if you go out tonight", "a condition alone"),
    ("I mean it", "earnestness alone"),
    ("answer me", "a demand alone"),
    ("I'll show up around eight", "showing up alone"),
])
def test_safety_rules_weak_cues_need_company(coder: RuleCoder, text: str, reason: str) -> None:
    assert not flagged(coder, text), reason


def test_safety_rules_weak_cues_combine(coder: RuleCoder) -> None:
    (code,) = [c for c in coder.code_text("if you go out tonight I'll show up. I mean it")
               if c.name == "safety_risk"]
    assert code.score >= 0.5
    assert {"safety_risk.threat_condition", "safety_risk.threat_show_up_weak"} <= set(code.rule_ids)


def test_safety_rules_banter_cancels_only_its_sentence(coder: RuleCoder) -> None:
    assert not flagged(coder, "I'll kill you if you eat my fries 😂")
    assert flagged(coder, "I'll kill you if you eat my fries 😂. I know where your sister lives")


@pytest.mark.parametrize(("text", "category"), [
    ("everyone would be better off without me", "self-harm"),
    ("I have the pills right here", "self-harm"),
    ("if you go I'll do something stupid", "self-harm"),
    ("I'll post the videos of you if you block me", "threat"),
    ("I know where your brother works", "threat"),
    ("you shoved me into the wall", "violence"),
    ("I went through your texts while you slept", "coercive control"),
    ("I decide who you talk to", "coercive control"),
])
def test_safety_rules_findings_get_a_category(coder: RuleCoder, text: str, category: str) -> None:
    codes = coder.code_text(text)
    (code,) = [c for c in codes if c.name == "safety_risk"]
    m = Message("c1", "c1-1", "A", None, text)
    m.annotations["codes"] = (Code("safety_risk", code.score,
                                   tuple(Evidence(e.start, e.end, e.text) for e in code.evidence)),)
    (finding,) = scan_safety(Corpus.from_messages([m])).findings
    assert finding.category == category


# Found on real everyday text (issue 10): each raised safety_risk with the rules before.
@pytest.mark.parametrize("text", [
    "Aight, I'll hit you up when I get some cash",
    "I was just about to say that, but you beat me to it",
    "just trying to kill time before the flight",
    "Can you put the knife and fork on the tray?",
    "Can I read it when you're finished?",
    "it's over there by the door",
    "he committed suicide last year, it was in the news",
    "I have to read the book in one sitting or else I lose the thread",
    "Or else he has multiple people helping him at the same time",
    "PROBTHAT OVERDOSE OF WORK HEY GO CAREFUL",
    "i was the only one that made it down without hurting myself",
    # from train-side everyday chat (chitchat), flagged before this round
    "I think the name of the movie is The Purge.",
    "Nope. But I have been thinking about taking some online classes.",
    "But sick or not nothing will stop me from going to see the Avengers: Infinity war haha",
    "thinking about jumping in the pool later",
    "thinking about cutting my hair short",
    # from train-side everyday talk (chit-chat, Commonsense-Dialogues, ESConv), thirteenth session
    "I am sure I will find you on later because you are living on the chat haha!",
    "even when it's cold out you can't see your breath as easily because it's so dry",
    "Well, I guess we will just have to wait and see what happens tomorrow in HR",
    "My boyfriend broke up with me today. I am just going to drown myself in beer.",
    "Okay, if you're finished please exit, and feel free to contact me any time.",
    "I also played them in table tennis but he kept beating me at that",
    "So upset that my landlord won't allow me to have pets in my apartment.",
    "I'm so glad the judge didn't make me go to jail.",
])
def test_safety_rules_leave_real_everyday_lookalikes(coder: RuleCoder, text: str) -> None:
    assert not flagged(coder, text), f"{text!r} coded safety_risk"


@pytest.mark.parametrize("text", [
    "If you leave I don't know what I'll do to myself",
    "Do that again or else.",
    "Give me your password or else",
    "I've been thinking about suicide",
    "suicide has crossed my mind lately",
    "I tried to commit suicide last year",
    "I've been thinking about taking all my pills",
    "I keep thinking about cutting myself again",
    "I thought about jumping off the bridge",
    "I binge and then purge",
    "nobody can stop me",
    "I keep thinking about hurting you",
    "You're finished.",
    "I will find you, wherever you go.",
    "Just wait and see what happens if you leave me.",
    "he kept beating me every night",
    "I'm going to drown myself",
])
def test_safety_rules_keep_recall_after_the_precision_fixes(coder: RuleCoder, text: str) -> None:
    assert flagged(coder, text), f"{text!r} not coded safety_risk"


def _told(coder: RuleCoder, text: str) -> SafetyFinding:
    """The one safety finding of ``text``, from the code as the coder gives it (rule ids too)."""
    m = Message("c1", "c1-1", "A", None, text)
    m.annotations["codes"] = tuple(c for c in coder.code_text(text) if c.name == "safety_risk")
    assert m.annotations["codes"], f"{text!r} not coded safety_risk"
    (finding,) = scan_safety(Corpus.from_messages([m])).findings
    return finding


# Danger told about someone else, as a person writes to a friend, a counsellor or a partner
# (issue 10: the rules knew "you hit me" but not "my husband hits me"). Written for this test.
@pytest.mark.parametrize("text", [
    "My husband hits me when he drinks.",
    "my boyfriend choked me during a fight",
    "He pushed me down the stairs.",
    "I have been in an abusive relationship for three years",
    "he is violent when he's angry",
    "He forced me to have sex.",
    "I was raped.",
    "I'm afraid of my partner.",
    "I'm scared he'll hurt me.",
    "He threatens to take the kids if I leave.",
    "She said she'd kill herself if I left her.",
    "He controls all our money and won't let me see my friends.",
    "my ex stalks me",
    "I've been starving myself for weeks",
    "I make myself throw up after meals",
    "I burn myself to feel something",
])
def test_safety_rules_flag_danger_told_about_someone_else(coder: RuleCoder, text: str) -> None:
    assert flagged(coder, text), f"{text!r} not coded safety_risk"


@pytest.mark.parametrize("text", [
    "He has never hit me.",
    "he beat me at chess lol",
    "my boss pushed me to apply",
    "she hit me up about the party",
    "I'm afraid of spiders",
    "the movie was so violent",
    "the kids were beaten at soccer",
    "he took the cards to the shop",
    "the library thought its rooms were being abused by the crowds",
])
def test_safety_rules_told_violence_lookalikes_stay_clear(coder: RuleCoder, text: str) -> None:
    assert not flagged(coder, text), f"{text!r} coded safety_risk"


@pytest.mark.parametrize(("text", "category"), [
    ("My husband hits me when he drinks.", "violence"),
    ("I have been in an abusive relationship for three years", "violence"),
    ("He forced me to have sex.", "violence"),
    ("I'm afraid of my partner.", "violence"),
    ("He threatens to take the kids if I leave.", "threat"),
    ("He controls all our money and won't let me see my friends.", "coercive control"),
    ("he goes through my phone every night", "coercive control"),
])
def test_safety_rules_danger_told_gets_its_category(coder: RuleCoder, text: str,
                                                    category: str) -> None:
    assert _told(coder, text).category == category


# Danger told the way people tell it when they don't use the words "abuse" or "suicide"
# (issue 10: a blind probe set found about one danger message in five). Written for this test.
@pytest.mark.parametrize(("text", "category"), [
    ("my gf keeps slapping me when she's angry", "violence"),
    ("it got physical again last night", "violence"),
    ("her boyfriend hit her again and she won't leave", "violence"),
    ("my stepdad used to beat us with his belt", "violence"),
    ("I told him no three times and he kept going", "violence"),
    ("he shared my nudes with his mates", "violence"),
    ("she swears she'll make me regret leaving", "threat"),
    ("he says I'll never see my daughter again if I go", "threat"),
    ("I'm not allowed to see my friends unless he comes", "coercive control"),
    ("my husband keeps my passport in his safe", "coercive control"),
    ("found an airtag under my car seat", "coercive control"),
    ("he logs into my email and reads everything", "coercive control"),
    ("cut again tonight, sorry", "self-harm"),
    ("been making myself sick after every meal", "self-harm"),
    ("I haven't eaten anything in four days and I still feel huge", "self-harm"),
    ("I've been looking up ways to die", "self-harm"),
    ("sorry for being a burden, you won't have to deal with it much longer", "self-harm"),
])
def test_safety_rules_flag_danger_in_everyday_words(coder: RuleCoder, text: str,
                                                    category: str) -> None:
    assert _told(coder, text).category == category


@pytest.mark.parametrize("text", [
    "she shot me a look when you said that 😂",
    "grab a knife for the cake pls",
    "you beat me fair and square",
    "I'd rather die than sit through that film again",
    "I want to disappear for a weekend, just us two",
    "cut myself shaving, looks dramatic",
    "the puppy follows me around everywhere",
    "these meds are ruining my sleep",
    "don't let me keep you up too late",
    "she looks like she'll throw up every time she sees a spider",
    "we're not allowed to park outside the school",
    "I'm scared of what the exam will look like",
    "my mum called me 5 times about dinner lol",
])
def test_safety_rules_everyday_words_stay_clear(coder: RuleCoder, text: str) -> None:
    assert not flagged(coder, text), f"{text!r} coded safety_risk"


# Danger told by what it does rather than named (seventh round; rules written from the dev probe
# set's misses, these sentences written for this test)
@pytest.mark.parametrize(("text", "category"), [
    ("i banged my head against the wall again till it went quiet", "self-harm"),
    ("I cut my thighs where nobody looks", "self-harm"),
    ("left notes for everyone in the kitchen drawer", "self-harm"),
    ("sat on the bridge last night thinking how easy it would be to just let go", "self-harm"),
    ("I don't think I'll be around by Christmas", "self-harm"),
    ("throwing up when I eat anything bigger than a biscuit", "self-harm"),
    ("under 600 calories today and I still went for a run", "self-harm"),
    ("my hands shake when I hear his car in the drive", "violence"),
    ("she flinches when he raises his voice", "violence"),
    ("lovely flat. shame if something happened to it while you're at work", "threat"),
    ("post that and I will ruin your life", "threat"),
    ("he has my car keys and says I get them back if I behave", "coercive control"),
    ("she changed the wifi password so I can't message anyone while she's out", "coercive control"),
    ("he put a camera in the bedroom and never told me", "coercive control"),
    ("her dad threw a plate at her during dinner", "violence"),
    ("mum used to hold my head under the bath water when I cried", "violence"),
])
def test_safety_rules_flag_danger_told_by_what_it_does(coder: RuleCoder, text: str,
                                                      category: str) -> None:
    assert category in _told(coder, text).categories, _told(coder, text)


@pytest.mark.parametrize("text", [
    "I haven't eaten since Tuesday, work has been mad, pizza tonight?",
    "I keep a bag packed by the door for the hospital, baby's due any day",
    "my hands are freezing, bring gloves",
    "I'm so scared of spiders honestly",
    "banged my head on the cupboard door again lol",
    "she threw a party for him at the office",
    "we left notes for the cleaner on the fridge",
    "how tall is the Eiffel Tower anyway",
    "I put a camera on the bird feeder, look at this robin",
])
def test_safety_rules_told_by_what_it_does_lookalikes_stay_clear(coder: RuleCoder,
                                                                 text: str) -> None:
    assert not flagged(coder, text), f"{text!r} coded safety_risk"


# Suicide in people's own words (eighth round; the rule was written from the safety_risk
# utterances of the ESConv training conversations the rules missed; these sentences were
# written for this test)
@pytest.mark.parametrize("text", [
    "honestly I don't have anything left to live for",
    "there's nobody left to live for now she's gone",
    "if it gets worse I'll just kill my self",
    "been thinking about hanging my self",
    "i look forward to dying, is that weird",
    "I wish I had just been killed in that crash",
    "I wish I'd died with her back then",
    "sometimes I wish someone had just killed me",
])
def test_safety_rules_flag_suicide_in_own_words(coder: RuleCoder, text: str) -> None:
    assert "self-harm" in _told(coder, text).categories, _told(coder, text)


@pytest.mark.parametrize("text", [
    "I hurt my self at the gym, my back is wrecked",
    "cut my self chopping onions again",
    "I wish I'd died laughing when he said that",
    "if you look forward to dying you haven't found your reason yet",
    "goodbye cruel world, my phone is on 1%",
    "I'm not looking forward to the dentist",
])
def test_safety_rules_own_words_lookalikes_stay_clear(coder: RuleCoder, text: str) -> None:
    assert not flagged(coder, text), f"{text!r} coded safety_risk"


# Idioms from train-side film talk (ninth round; cmu_dog, which no model learns from, showed
# both; these sentences were written for this test): the idiom clears only its own sentence
@pytest.mark.parametrize("text", [
    "this summer has been perfect, I never want it to end",
    "the finale was so good, never want it to end",
    "classic do as I say, not as I do from my manager",
    "he's all do as i say not as i do about screen time lol",
])
def test_safety_rules_film_talk_idioms_stay_clear(coder: RuleCoder, text: str) -> None:
    assert not flagged(coder, text), f"{text!r} coded safety_risk"


@pytest.mark.parametrize("text", [
    "I just want it all to end",
    "I want it to end. I never want it to end like this though",
    "from now on you do as I say",
])
def test_safety_rules_keep_recall_beside_the_film_talk_idioms(coder: RuleCoder,
                                                              text: str) -> None:
    assert flagged(coder, text), f"{text!r} not coded safety_risk"


# Threats, violence now and another's self-harm as people say them (tenth round; the training
# films showed these forms, the sentences here were written for this test)
@pytest.mark.parametrize("text", [
    "I'm willing to hurt you if that's what it takes",
    "keep lying to me and I might hurt you",
    "say that again or I'll stick this fork in your neck",
    "you're lucky, I nearly pulled the trigger",
    "let go of me!",
    "get your hands off me",
    "you are hurting me, stop",
    "you tried to take your own life last spring",
    "promise me you won't do anything to yourself tonight",
    "mess with my sister and you'll have me to answer to",
])
def test_safety_rules_flag_threats_as_people_say_them(coder: RuleCoder, text: str) -> None:
    assert flagged(coder, text), f"{text!r} not coded safety_risk"


@pytest.mark.parametrize("text", [
    "let me go check the oven",
    "let me go, I'm late for the bus",
    "I would never hurt you",
    "I might hit the gym later",
    "don't hurt yourself lifting that couch",
    "you'll die when you see what she wore",
    "she tried to take her life back after the divorce",
])
def test_safety_rules_threat_lookalikes_stay_clear(coder: RuleCoder, text: str) -> None:
    assert not flagged(coder, text), f"{text!r} coded safety_risk"
