"""The default taxonomy, its ImageNet mapping and prior, and tag-name validation (no torch)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from photo_tagger.core.backbone import imagenet_class_names
from photo_tagger.core.taxonomy import (
    MAX_TAG_NAME_LENGTH,
    TagDefinition,
    Taxonomy,
    load_default_taxonomy,
    parse_taxonomy,
    validate_tag_name,
)

REQUIRED = (
    """cat dog car bird horse bicycle motorcycle bus train truck boat airplane chair sofa
table bed tv laptop phone keyboard clock book umbrella backpack handbag bottle cup bowl pizza
cake food fruit flower tree beach mountain lake snow building bridge church street sheep cow
person""".split()
    + ["potted plant"]
)



def _coco_classes() -> tuple[str, ...]:
    """The 80 COCO classes under COCO's own names (benchmarks/coco.py: constants only)."""
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "coco.py"
    spec = importlib.util.spec_from_file_location("coco", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.COCO_CLASSES


COCO_80 = _coco_classes()  # each must be a tag name or a synonym

DOMESTIC_CATS = (281, 282, 283, 284, 285)


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_default_taxonomy()


def one_hot_logits(index: int, n: int = 1, height: float = 12.0) -> np.ndarray:
    logits = np.zeros((n, 1000), np.float32)
    logits[:, index] = height
    return logits


def test_default_taxonomy_has_at_least_80_tags_including_the_everyday_ones(taxonomy):
    names = taxonomy.names()
    assert len(names) >= 80
    assert not [name for name in REQUIRED if name not in names]


def test_tag_names_are_valid_lowercase_and_unique(taxonomy):
    names = taxonomy.names()
    assert all(validate_tag_name(name) == name == name.lower() for name in names)
    assert len({name.casefold() for name in names}) == len(names)


def test_synonyms_do_not_collide_with_tag_names_or_each_other(taxonomy):
    names = {name.casefold() for name in taxonomy.names()}
    synonyms = [s.casefold() for tag in taxonomy.tags for s in tag.synonyms]
    assert not names & set(synonyms)
    assert len(set(synonyms)) == len(synonyms)


def test_indices_are_imagenet_classes_without_duplicates(taxonomy):
    for tag in taxonomy.tags:
        assert all(0 <= i <= 999 for i in tag.imagenet), tag.name
        assert len(set(tag.imagenet)) == len(tag.imagenet), tag.name


def test_every_child_is_contained_in_its_parent(taxonomy):
    by_name = {tag.name: tag for tag in taxonomy.tags}
    children = [tag for tag in taxonomy.tags if tag.parent is not None]
    assert len(children) >= 20
    for tag in children:
        missing = set(tag.imagenet) - set(by_name[tag.parent].imagenet)
        assert not missing, f"{tag.name} has classes {sorted(missing)} that {tag.parent} lacks"


def test_cat_is_exactly_the_domestic_cats(taxonomy):
    cat = taxonomy.tag("cat")
    assert tuple(sorted(cat.imagenet)) == DOMESTIC_CATS
    names = [imagenet_class_names()[i] for i in sorted(cat.imagenet)]
    # torchvision shortens WordNet's "tabby, tabby cat" to "tabby".
    assert names == ["tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"]
    assert all("cat" in name for name in names[1:])


def test_dog_is_every_dog_breed_and_animal_contains_it(taxonomy):
    assert tuple(sorted(taxonomy.tag("dog").imagenet)) == tuple(range(151, 269))
    assert set(range(151, 269)) <= set(taxonomy.tag("animal").imagenet)


def test_airplane_does_not_map_to_the_carpenters_plane(taxonomy):
    assert imagenet_class_names()[726] == "plane"
    assert 726 not in taxonomy.tag("airplane").imagenet


def test_class_names_are_the_1000_imagenet_classes():
    names = imagenet_class_names()
    assert len(names) == 1000
    assert (names[0], names[281], names[999]) == ("tench", "tabby", "toilet tissue")


def test_person_is_scored_through_what_people_wear(taxonomy):
    person = taxonomy.tag("person")
    names = {imagenet_class_names()[i] for i in person.imagenet}
    assert len(person.imagenet) >= 80
    assert {"suit", "jersey", "bikini", "sunglasses", "groom", "scuba diver", "ballplayer"} <= names
    # the proxy classes stay in their own tags too
    assert 834 in taxonomy.tag("clothing").imagenet and 834 in person.imagenet
    prior = taxonomy.prior_probabilities(one_hot_logits(834))[0]  # suit
    assert prior[taxonomy.names().index("person")] > 0.9


def test_a_tag_imagenet_cannot_see_has_a_nan_prior(taxonomy):
    assert taxonomy.tag("giraffe").imagenet == ()
    prior = taxonomy.prior_probabilities(one_hot_logits(281))
    assert np.isnan(prior[0, taxonomy.names().index("giraffe")])


def test_every_coco_class_has_a_tag_by_name_or_synonym(taxonomy):
    words = {word.casefold() for tag in taxonomy.tags for word in (tag.name, *tag.synonyms)}
    assert not [name for name in COCO_80 if name not in words]


@pytest.mark.parametrize(
    ("tag", "index", "why"),
    [
        ("kite", 21, "the bird called kite"),
        ("musical instrument", 822, "steel drums fire on pans"),
        ("musical instrument", 641, "maracas fire on wine glasses"),
        ("farm animal", 346, "water buffalo fires on wild elephants"),
        ("drink", 901, "a whiskey jug of flowers is a vase"),
    ],
)
def test_classes_that_gave_odd_guesses_stay_out(taxonomy, tag, index, why):
    assert index not in taxonomy.tag(tag).imagenet, why


def test_a_tabby_photo_is_a_cat_and_not_a_dog(taxonomy):
    prior = taxonomy.prior_probabilities(one_hot_logits(281))[0]
    names = taxonomy.names()
    assert prior[names.index("cat")] > 0.9
    assert prior[names.index("animal")] > 0.9
    assert prior[names.index("dog")] < 0.05
    assert prior[names.index("car")] < 0.05


def test_priors_are_probabilities_or_nan(taxonomy):
    logits = np.random.default_rng(0).normal(0, 4, (50, 1000)).astype(np.float32)
    prior = taxonomy.prior_probabilities(logits)
    assert prior.shape == (50, len(taxonomy.tags))
    assert prior.dtype == np.float32
    known = prior[~np.isnan(prior)]
    assert known.size and known.min() >= 0 and known.max() <= 1
    empty = [i for i, tag in enumerate(taxonomy.tags) if not tag.imagenet]
    assert np.isnan(prior[:, empty]).all()
    assert not np.isnan(np.delete(prior, empty, axis=1)).any()


def test_huge_logits_do_not_overflow(taxonomy):
    prior = taxonomy.prior_probabilities(one_hot_logits(281, height=1e4))
    assert prior[0, taxonomy.names().index("cat")] == pytest.approx(1.0)


def test_membership_matrix_marks_each_tags_classes(taxonomy):
    matrix = taxonomy.membership_matrix()
    assert matrix.shape == (1000, len(taxonomy.tags)) and matrix.dtype == np.float32
    column = taxonomy.names().index("cat")
    assert np.flatnonzero(matrix[:, column]).tolist() == list(DOMESTIC_CATS)


def test_sum_and_noisy_or_split_a_two_object_photo_differently():
    tags = (TagDefinition("pair", (0, 1)),)
    logits = np.full((1, 4), -20.0)
    logits[0, :2] = 0.0  # half the mass on each member
    summed = Taxonomy(tags, aggregation="sum").prior_probabilities(logits)
    noisy_or = Taxonomy(tags, aggregation="noisy_or").prior_probabilities(logits)
    assert summed[0, 0] == pytest.approx(1.0, abs=1e-6)
    assert noisy_or[0, 0] == pytest.approx(0.75, abs=1e-6)


def test_temperature_and_exponent_are_applied():
    tags = (TagDefinition("first", (0,)),)
    logits = np.array([[np.log(3.0), 0.0]])
    assert Taxonomy(tags).prior_probabilities(logits)[0, 0] == pytest.approx(0.75)
    hot = Taxonomy(tags, temperature=2.0).prior_probabilities(logits)[0, 0]
    assert hot == pytest.approx(np.sqrt(3) / (np.sqrt(3) + 1))
    rooted = Taxonomy(tags, exponent=0.5).prior_probabilities(logits)[0, 0]
    assert rooted == pytest.approx(np.sqrt(0.75))


def test_prior_refuses_logits_of_the_wrong_shape(taxonomy):
    with pytest.raises(ValueError, match="n_photos, n_classes"):
        taxonomy.prior_probabilities(np.zeros(1000))
    with pytest.raises(ValueError, match="only 10 classes"):
        taxonomy.prior_probabilities(np.zeros((1, 10)))


def test_parse_taxonomy_reads_calibration_and_tags():
    text = """
    [calibration]
    temperature = 2.0
    aggregation = "noisy_or"
    exponent = 0.5
    [tags.animal]
    imagenet = [1, 2]
    [tags."house cat"]
    parent = "animal"
    synonyms = ["kitty"]
    imagenet = [2]
    """
    taxonomy = parse_taxonomy(text)
    assert (taxonomy.temperature, taxonomy.aggregation, taxonomy.exponent) == (2.0, "noisy_or", 0.5)
    assert taxonomy.tags[1] == TagDefinition("house cat", (2,), "animal", ("kitty",))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[tags.a]\nparent = "b"\nimagenet = []', "parent 'b', which is not a tag"),
        ('[tags.a]\nparent = "b"\n[tags.b]\nparent = "a"', "parent cycle"),
        ("[tags.a]\nimagenet = [1, 1]", "twice"),
        ("[tags.a]\nimagenet = [-1]", "indices >= 0"),
        ("[tags.Cat]\n[tags.cat]", "defined twice"),
        ('[tags."a;b"]', "separates tags"),
        ("[tags.a]\nimagenet = [1]\nmembers = [2]", "unknown keys"),
        ('[calibration]\naggregation = "mean"', "aggregation 'mean' unknown"),
        ("[calibration]\ntemperature = 0", "temperature must be > 0"),
        ("[tags.a", "mytax.toml"),
    ],
)
def test_parse_taxonomy_names_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        parse_taxonomy(text, source="mytax.toml")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "cannot be empty"),
        ("   ", "cannot be empty"),
        ("x" * (MAX_TAG_NAME_LENGTH + 1), "101 characters; the limit is 100"),
        ("a\nb", "control character U\\+000A"),
        ("a\tb", "control character U\\+0009"),
        ("a\x00b", "control character U\\+0000"),
        ("a;b", "separates tags in CSV"),
    ],
)
def test_validate_tag_name_refuses_bad_names_clearly(name, message):
    with pytest.raises(ValueError, match=message):
        validate_tag_name(name)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Grandma's house", "Grandma's house"),
        ("café", "café"),
        ("cafe\u0301", "café"),  # decomposed accent -> one composed character
        ("  summer   holiday 2024 ", "summer holiday 2024"),
        ("x" * MAX_TAG_NAME_LENGTH, "x" * MAX_TAG_NAME_LENGTH),
        ("北京", "北京"),
    ],
)
def test_validate_tag_name_accepts_and_normalises(name, expected):
    assert validate_tag_name(name) == expected


def test_a_uniform_prediction_suggests_no_tag_at_the_prior_thresholds() -> None:
    taxonomy = load_default_taxonomy()
    uniform = taxonomy.prior_probabilities(np.zeros((1, 1000), np.float32))[0]
    thresholds = taxonomy.prior_thresholds()
    has_prior = ~np.isnan(uniform)
    assert np.all(uniform[has_prior] < thresholds[has_prior])
    names = taxonomy.names()
    assert thresholds[names.index("animal")] > 0.7  # ~400 classes: a texture must not be "animal"
    assert thresholds[names.index("cat")] == pytest.approx(0.5)
