"""A person's derived sort name: generational suffixes kept, post-nominals set aside."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.content.names import derive_sort_name
from app.demo.data import DEMO_DATASET
from tests.admin_helpers import Keys


@pytest.mark.parametrize(
    ("name", "sort_name"),
    [
        ("Martin Luther King Jr.", "King, Martin Luther, Jr."),
        ("Martin Luther King, Jr.", "King, Martin Luther, Jr."),
        ("Martin Luther King Jr", "King, Martin Luther, Jr"),
        ("Henry Ford II", "Ford, Henry, II"),
        ("Thurston Howell III", "Howell, Thurston, III"),
        ("Ann Lee Sr.", "Lee, Ann, Sr."),
        ("JOHN DOE JR.", "DOE, JOHN, JR."),
        ("Jane Doe, PhD", "Doe, Jane"),
        ("John Smith, MD", "Smith, John"),
        ("Jane Doe, Ph.D.", "Doe, Jane"),
        ("Jane Doe, MA, PhD", "Doe, Jane"),
        ("Jane Doe, MA PhD", "Doe, Jane"),
        ("John Smith Jr., MD", "Smith, John, Jr."),
        ("John Smith, Jr., MD", "Smith, John, Jr."),
        ("Cher, PhD", "Cher"),
        # Written family name first: as written, suffixes and post-nominals as above.
        ("Díaz-Cayeros, Alberto", "Díaz-Cayeros, Alberto"),
        ("Li, Ma", "Li, Ma"),
        ("Díaz-Cayeros, Alberto, PhD", "Díaz-Cayeros, Alberto"),
        ("King, Martin Luther, Jr.", "King, Martin Luther, Jr."),
        ("King, Martin Luther, Jr., PhD", "King, Martin Luther, Jr."),
        # A comma with nothing after it says nothing.
        ("Jane Doe,", "Doe, Jane"),
        ("Jane Doe, ", "Doe, Jane"),
        ("Jane Doe,, PhD", "Doe, Jane"),
        ("Martin Luther King Jr.,", "King, Martin Luther, Jr."),
        # Unchanged: as the last word was always taken (the commas say something else,
        # the word may be a name, or there is no given name to put the suffix after).
        ("Ana María Díaz-Cayeros", "Díaz-Cayeros, Ana María"),
        ("Aila M. Matanock", "Matanock, Aila M."),
        ("Yo-Yo Ma", "Ma, Yo-Yo"),
        ("Stanford", "Stanford"),
        ("Jane Doe PhD", "PhD, Jane Doe"),
        ("Carlos Alberto V", "V, Carlos Alberto"),  # an initial as often as a fifth
        ("Smith Jr.", "Jr., Smith"),
        ("Prince, Jr.", "Jr., Prince,"),
        ("Doe, Jane, Director", "Director, Doe, Jane,"),
        ("Doe, Jane, Jr., Sr.", "Sr., Doe, Jane, Jr.,"),
    ],
)
def test_derived_sort_names(name: str, sort_name: str) -> None:
    assert derive_sort_name(name) == sort_name


def test_the_demo_people_are_derived_as_they_are_sorted() -> None:
    """Every demo person's sort name (all set explicitly, 'Family, Given') is what the
    derivation gives: ordinary names are derived as they always were."""
    people = DEMO_DATASET["people"]
    assert people
    assert [derive_sort_name(p["name"]) for p in people] == [p["sort_name"] for p in people]


@pytest.fixture
def keys(session_factory: sessionmaker[Session]) -> Keys:
    return Keys(session_factory)


def test_people_with_suffixes_are_sorted_by_family_name(client: TestClient, keys: Keys) -> None:
    """King sorts under K, not J ("Jr., Martin Luther King"), and Doe under D, not P
    ("PhD, Jane Doe,"); a sort name given stays as given."""
    for body in (
        {"name": "Martin Luther King Jr."},
        {"name": "Jane Doe, PhD"},
        {"name": "Ann Lee"},
        {"name": "Peter Paul Jr.", "sort_name": "Jr., Peter Paul"},
        {"name": "Zoe Carter"},
    ):
        response = client.post("/api/v1/people", json=body, headers=keys.writer)
        assert response.status_code == 201, response.text
    listed = client.get("/api/v1/people?sort=sort_name&fields=name,sort_name").json()["data"]
    assert [(p["name"], p["sort_name"]) for p in listed] == [
        ("Zoe Carter", "Carter, Zoe"),
        ("Jane Doe, PhD", "Doe, Jane"),
        ("Peter Paul Jr.", "Jr., Peter Paul"),
        ("Martin Luther King Jr.", "King, Martin Luther, Jr."),
        ("Ann Lee", "Lee, Ann"),
    ]
    king = client.get("/api/v1/people/martin-luther-king-jr").json()
    assert king["sort_name"] == "King, Martin Luther, Jr."
    assert client.get("/api/v1/people/jane-doe-phd").json()["degrees"] is None  # not moved


def test_a_name_at_the_length_limit_gets_a_sort_name_within_it(
    client: TestClient, keys: Keys
) -> None:
    """ "Family, Given" is a comma longer than "Given Family" (", Jr." more): a name of the
    longest length allowed gave a sort name past the column's 200 characters, refused on
    PostgreSQL and stored as it was on SQLite. The derived one fits: without its suffix,
    and cut if it must be."""
    for name in ("A" * 100 + " " + "B" * 99, "C" * 96 + " " + "D" * 99 + " Jr."):
        assert len(name) == 200
        response = client.post("/api/v1/people", json={"name": name}, headers=keys.writer)
        assert response.status_code == 201, response.text
        sort_name = response.json()["sort_name"]
        assert len(sort_name) <= 200  # the suffix left out first, then cut
        assert sort_name.startswith(name.split()[1] + ", " + name.split()[0][:90])


@pytest.mark.parametrize("name", ["\u0301, MD", "x " + "\u0301" * 198])
def test_a_name_whose_derived_sort_name_has_nothing_to_read_keeps_the_name(
    client: TestClient, keys: Keys, name: str
) -> None:
    """ "\u0301, MD" (a combining mark, then a degree) gave the sort name "\u0301", and
    "x" then 198 marks, cut to fit, 198 marks: every later write of the person refused
    them as blank, so the person could not be edited."""
    created = client.post("/api/v1/people", json={"name": name}, headers=keys.writer)
    assert created.status_code == 201, created.text
    assert created.json()["sort_name"] == name
    renamed = client.patch(
        created.headers["location"], json={"title": "Fellow"}, headers=keys.writer
    )
    assert renamed.status_code == 200, renamed.text


def test_the_api_documentation_says_when_an_editor_must_set_the_sort_name(
    client: TestClient,
) -> None:
    """The derivation knows no name orders: the last word is the family name, so "Xi
    Jinping" derives "Jinping, Xi" and is cited so. No guesser is built for that; the
    write bodies' `sort_name` (what editors read at /docs) says when to set it, and the
    read models say what a derived one is."""
    assert derive_sort_name("Xi Jinping") == "Jinping, Xi"
    assert derive_sort_name("Ana García Márquez") == "Márquez, Ana García"
    document = client.get("/openapi.json").json()
    people = document["paths"]["/api/v1/people"]["post"]["requestBody"]["content"]
    one = document["paths"]["/api/v1/people/{id_or_slug}"]["patch"]["requestBody"]["content"]
    for body in (people["application/json"], one["application/merge-patch+json"]):
        description = body["schema"]["properties"]["sort_name"]["description"]
        assert "**Set it** whenever the family name is not the last word" in description
        assert '"Xi Jinping" derives "Jinping, Xi": set "Xi, Jinping"' in description
        assert "A sort name you set is kept when the name changes" in description
    read = document["components"]["schemas"]["Person"]["properties"]["sort_name"]
    assert "last word as the family name" in read["description"]
    graphql = client.post(
        "/graphql",
        json={"query": '{ __type(name: "Person") { fields { name description } } }'},
    ).json()["data"]["__type"]["fields"]
    described = {f["name"]: f["description"] for f in graphql}
    assert "needs it set by the editor" in described["sortName"]
