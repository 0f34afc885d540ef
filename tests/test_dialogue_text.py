"""Words both ways: template generation, the token vocabulary and keyword understanding."""

import numpy as np
import pytest
import yaml

from envs.dialogue import NLG, SystemAct, SystemActType, UserAct, UserActType, load_ontology
from envs.dialogue.nlg import DEFAULT_TEMPLATES, Vocabulary, confidence_token, tokenize
from envs.dialogue.nlu import KeywordNLU

ONTOLOGY = load_ontology()
NLG_ = NLG(ONTOLOGY)


def parsed(text, last=None, focus=None):
    return [str(h.act) for h in KeywordNLU(ONTOLOGY).parse(text, last, focus)]


def test_templates_vary_and_fill_in_values():
    rng = np.random.default_rng(0)
    act = UserAct(UserActType.INFORM, slot="destination", value="the harbour")
    texts = {NLG_.user_text(act, rng) for _ in range(50)}
    assert len(texts) == 3 and all("the harbour" in t for t in texts)
    confirm = SystemAct(SystemActType.CONFIRM, slot="fan_speed")
    text = NLG_.system_text(confirm, rng, {"fan_speed": "high"})
    assert "high" in text
    execute = SystemAct(SystemActType.EXECUTE, intent="call_contact")
    text = NLG_.system_text(execute, rng, {"contact": "nora", "number_type": "dontcare"})
    assert "nora" in text and "any" in text and "dontcare" not in text


def test_missing_templates_are_named(tmp_path):
    data = yaml.safe_load(DEFAULT_TEMPLATES.read_text())
    del data["user"]["inform"]["zone"]
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match=r"user\.inform lacks slot 'zone'"):
        NLG(ONTOLOGY, path)
    data = yaml.safe_load(DEFAULT_TEMPLATES.read_text())
    data["system"]["execute"]["navigate"] = ["Going to {destination} at {speed}."]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match=r"names slots \['speed'\]"):
        NLG(ONTOLOGY, path)


def test_vocabulary_ids_and_encoding():
    vocab = NLG_.vocabulary()
    assert vocab.tokens[:4] == ("<pad>", "<unk>", "<sys>", "<usr>")
    assert {"harbour", "spotify", "metallica", "24", "don't"} <= set(vocab.tokens)
    ids = vocab.encode("<sys> Which zone? <usr> Zone everywhere. <c4> blorp", 12)
    assert ids.dtype == np.int64 and ids.shape == (12,)
    assert vocab.decode(ids) == "<sys> which zone <usr> zone everywhere <c4> <unk>"
    assert (ids[8:] == 0).all()
    assert len(vocab.encode("a " * 30, 5)) == 5  # cut at the length
    assert Vocabulary(["b", "a", "a"]).tokens[-2:] == ("a", "b")
    assert [confidence_token(c) for c in (0.0, 0.19, 0.2, 0.99, 1.0)] == [
        "<c0>", "<c0>", "<c1>", "<c4>", "<c4>"
    ]  # fmt: skip
    assert tokenize("It's 21 degrees, OK?") == ["it's", "21", "degrees", "ok"]


def test_keyword_understanding():
    assert parsed("Navigate to the Harbour, fastest please") == [
        "inform_intent(navigate)", "inform(destination=the harbour)",
        "inform(route_preference=fastest)",
    ]  # fmt: skip
    assert parsed("harbour") == ["inform(destination=the harbour)"]  # "the" may be left out
    confirm = SystemAct(SystemActType.CONFIRM, slot="destination")
    assert parsed("no, the zoo", confirm) == ["negate(destination)", "inform(destination=the zoo)"]
    assert parsed("yes", confirm) == ["affirm(destination)"]
    request = SystemAct(SystemActType.REQUEST, slot="zone")
    assert parsed("I don't care", request) == ["dont_care(zone)"]
    # "home" is a destination and a number type: the question, then the focus decide
    assert parsed("home", SystemAct(SystemActType.REQUEST, slot="number_type")) == [
        "inform(number_type=home)"
    ]
    assert parsed("home", focus="navigate") == ["inform(destination=home)"]
    assert parsed("thanks, that's all") == ["thanks", "done"]
    assert parsed("hello there") == ["hello"] and parsed("mumble") == []
