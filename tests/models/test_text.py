"""spaCy text features on the edge inputs real posts bring."""

from __future__ import annotations

from models.text import extract_features, surface_features


def test_hashtags_mentions_and_urls() -> None:
    tags, mentions, urls = surface_features(
        "Read this (https://example.org/report). Thanks @NHSEngland and @dr_a@med-mastodon.com #GPcrisis #NHS."
    )
    assert tags == ["gpcrisis", "nhs"]
    assert mentions == ["nhsengland", "dr_a@med-mastodon.com"]
    assert urls == ["https://example.org/report"]


def test_features_entities_terms_and_language() -> None:
    english, french, empty, emoji, long = extract_features(
        [
            "Pharmacists in Manchester need funding for the new data service #NHS",
            "La santé publique est importante pour tous les citoyens de France.",
            "   ",
            "😡😡😡",
            "The waiting lists in Leeds are long. " * 300,
        ]
    )
    assert ("Manchester", "GPE") in english.entities
    assert {"pharmacist", "funding", "data"} <= set(english.key_terms)
    assert english.lang == "en" and english.hashtags == ["nhs"]
    assert french.lang == "other" and french.key_terms == []
    assert empty.n_words == 0 and empty.key_terms == [] and empty.lang == "und"
    assert emoji.key_terms == []
    assert "list" in long.key_terms and long.lang == "en"


def test_declared_language_wins() -> None:
    (feat,) = extract_features(["Short one"], ["cy"])
    assert feat.lang == "cy"
