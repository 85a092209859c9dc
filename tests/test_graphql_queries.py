"""GraphQL over the demo dataset (read only), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.content.cursors import InvalidToken, decode_token
from tests.graphql_support import FLAGSHIP, gql, nodes, post, public_id, type_name

SEMINAR = "hamas-attack-on-israel-implications-for-israel-and-the-middle-east"


def test_flagship_query_returns_the_seminar_with_speaker_profiles(demo_client: TestClient) -> None:
    data = gql(demo_client, FLAGSHIP, {"first": 20})
    events = nodes(data["events"])
    assert data["events"]["pageInfo"]["hasNextPage"] is False
    assert isinstance(data["events"]["pageInfo"]["endCursor"], str)
    seminar = next(e for e in events if e["title"].startswith("The Hamas Attack on Israel"))
    assert seminar["attendanceMode"] == "ONLINE"
    assert seminar["startsAt"].endswith("+00:00")
    speakers = seminar["speakers"]
    assert [s["name"] for s in speakers] == ["Amichai Magen", "Abbas Milani", "Or Rabinowitz"]
    milani = speakers[1]
    assert milani["slug"] == "abbas-milani"
    assert milani["title"] == "Research Fellow, Hoover Institution"
    assert milani["photo"]["url"].endswith("abbas_milani_photo_by_babak_payami.jpg")
    assert milani["bio"].startswith("<p>Abbas Milani")
    roles = {(a["role"], a["organization"]["name"]) for a in milani["affiliations"]}
    assert ("Research Fellow", "Hoover Institution") in roles
    assert all(s["affiliations"] for s in speakers)


def test_event_by_slug_with_participants_and_moderators(demo_client: TestClient) -> None:
    data = gql(
        demo_client,
        """query($slug: String!) { event(slug: $slug) {
            id slug eventType status participants { role person { name } }
            speakers { name } moderators { name slug } sponsors { name }
            topics { slug } venue { name } } }""",
        {"slug": SEMINAR},
    )
    event = data["event"]
    assert event["slug"] == SEMINAR
    assert event["eventType"] == "SEMINAR"
    assert event["status"] == "PUBLISHED"
    assert event["moderators"] == [{"name": "Larry Diamond", "slug": "larry-diamond"}]
    assert {"role": "MODERATOR", "person": {"name": "Larry Diamond"}} in event["participants"]
    assert [p["role"] for p in event["participants"]].count("SPEAKER") == 3
    assert "kidnapping" in [t["slug"] for t in event["topics"]]
    assert public_id(event["id"]).startswith("evt_")


def test_participants_of_one_role(demo_client: TestClient) -> None:
    """`participants(role:)`: the event's hosts (or any role) in program order, with the
    title the event gives them, as the whole list has them."""
    data = gql(
        demo_client,
        """query($seminar: String!, $role: ParticipantRole) {
          conference: event(slug: "violence-organized-crime-and-governance-in-mexico-2011") {
            all: participants { role title person { slug } }
            hosts: participants(role: HOST) { role title person { slug } } }
          seminar: event(slug: $seminar) {
            all: participants { role person { slug } }
            some: participants(role: $role) { role person { slug } } } }""",
        {"seminar": SEMINAR, "role": "SPEAKER"},
    )
    conference, seminar = data["conference"], data["seminar"]
    assert [p["person"]["slug"] for p in conference["hosts"]] == [
        "mariano-florentino-cuellar",
        "beatriz-magaloni",
    ]
    assert conference["hosts"] == [p for p in conference["all"] if p["role"] == "HOST"]
    assert len(seminar["some"]) == 3
    assert seminar["some"] == [p for p in seminar["all"] if p["role"] == "SPEAKER"]


def test_single_items_by_id_and_unknown_slugs(demo_client: TestClient) -> None:
    event = gql(demo_client, f'{{ event(slug: "{SEMINAR}") {{ id title }} }}')["event"]
    by_global = gql(
        demo_client, "query($id: ID!) { event(id: $id) { title } }", {"id": event["id"]}
    )
    by_public = gql(
        demo_client, "query($id: ID!) { event(id: $id) { title } }", {"id": public_id(event["id"])}
    )
    assert by_global["event"]["title"] == by_public["event"]["title"] == event["title"]
    unknown = gql(
        demo_client,
        '{ event(slug: "no-such-event") { id } person(slug: "nobody") { id } '
        'topic(slug: "nothing") { id } article(id: "QXJ0aWNsZTphcnRfOTk5OTk=") { id } }',
    )
    assert unknown == {"event": None, "person": None, "topic": None, "article": None}
    # An id of another type is not an event.
    person = gql(demo_client, '{ person(slug: "larry-diamond") { id } }')["person"]
    assert gql(demo_client, "query($id: ID!) { event(id: $id) { id } }", {"id": person["id"]}) == {
        "event": None
    }


def test_single_item_needs_exactly_one_of_slug_and_id(demo_client: TestClient) -> None:
    body = post(demo_client, "{ event { id } }").json()
    assert body["data"] == {"event": None}
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_node_resolves_every_type(demo_client: TestClient) -> None:
    query = """{
      topics(first: 1) { edges { node { id } } } organizations(first: 1) { edges { node { id } } }
      people(first: 1) { edges { node { id } } } articles(first: 1) { edges { node { id } } }
      events(first: 1) { edges { node { id } } } publications(first: 1) { edges { node { id } } }
      quotes(first: 1) { edges { node { id } } } resources(first: 1) { edges { node { id } } } }"""
    data = gql(demo_client, query)
    ids = {name: nodes(conn)[0]["id"] for name, conn in data.items()}
    for name, global_id in ids.items():
        found = gql(
            demo_client,
            "query($id: ID!) { node(id: $id) { __typename id ... on Event { title } } }",
            {"id": global_id},
        )["node"]
        assert found["id"] == global_id, name
        assert found["__typename"] == type_name(global_id)
    many = gql(
        demo_client,
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename } }",
        {"ids": [ids["events"], "bm9wZQ==", ids["people"]]},
    )["nodes"]
    assert many == [{"__typename": "Event"}, None, {"__typename": "Person"}]
    assert gql(demo_client, '{ node(id: "not-an-id") { id } }') == {"node": None}


def _walk(client: TestClient, collection: str, first: int, extra: str = "") -> list[str]:
    seen: list[str] = []
    after: str | None = None
    for _ in range(200):
        data = gql(
            client,
            f"""query($after: String) {{ {collection}(first: {first}, after: $after{extra}) {{
                totalCount edges {{ cursor node {{ slug }} }} pageInfo {{ hasNextPage endCursor }} }} }}""",
            {"after": after},
        )[collection]
        seen += [edge["node"]["slug"] for edge in data["edges"]]
        if data["edges"]:
            assert data["pageInfo"]["endCursor"] == data["edges"][-1]["cursor"]
        if not data["pageInfo"]["hasNextPage"]:
            assert len(seen) == data["totalCount"]
            return seen
        after = data["pageInfo"]["endCursor"]
    raise AssertionError("pagination did not end")


@pytest.mark.parametrize("collection", ["events", "people", "organizations"])
def test_walking_pages_of_two_visits_every_item_once(
    demo_client: TestClient, collection: str
) -> None:
    seen = _walk(demo_client, collection, 2)
    assert len(seen) == len(set(seen))
    everything = demo_client.get(f"/api/v1/{collection}", params={"limit": 100, "fields": "slug"})
    assert seen == [item["slug"] for item in everything.json()["data"]]
    if collection == "events":
        assert len(seen) == 3


FILTERS: list[tuple[str, str, dict[str, Any]]] = [
    ("events", '{topic: "kidnapping"}', {"topic": "kidnapping"}),
    ("events", "{eventType: SEMINAR}", {"event_type": "seminar"}),
    (
        "events",
        '{topics: ["mexico", "israel"], upcoming: false}',
        {"topic": ["mexico", "israel"], "upcoming": "false"},
    ),
    # `topic` and `topics` are one filter, REST's `topic` repeated: any of their slugs.
    ("events", '{topic: "israel", topics: ["mexico"]}', {"topic": ["israel", "mexico"]}),
    (
        "events",
        '{person: "amichai-magen", role: HOST}',
        {"person": "amichai-magen", "role": "host"},
    ),
    ("events", '{from: "2020-01-01T00:00:00Z"}', {"from": "2020-01-01T00:00:00Z"}),
    ("articles", '{author: "clifton-b-parker"}', {"author": "clifton-b-parker"}),
    ("articles", '{q: "sandberg"}', {"q": "sandberg"}),
    ("people", '{organization: "hoover-institution"}', {"organization": "hoover-institution"}),
    ("quotes", '{speaker: "sheryl-sandberg"}', {"speaker": "sheryl-sandberg"}),
    ("publications", "{publicationType: JOURNAL_ARTICLE}", {"publication_type": "journal_article"}),
    ("resources", "{resourceType: HOTLINE}", {"resource_type": "hotline"}),
    ("topics", '{q: "kidnapping"}', {"q": "kidnapping"}),
]


@pytest.mark.parametrize(("collection", "graphql_filter", "rest_params"), FILTERS)
def test_rest_and_graphql_give_the_same_items_in_the_same_order(
    demo_client: TestClient, collection: str, graphql_filter: str, rest_params: dict[str, Any]
) -> None:
    data = gql(
        demo_client,
        f"{{ {collection}(filter: {graphql_filter}, first: 100) {{ totalCount edges {{ node {{ id }} }} }} }}",
    )[collection]
    rest = demo_client.get(f"/api/v1/{collection}", params={**rest_params, "limit": 100})
    assert rest.status_code == 200, rest.text
    assert [public_id(n["id"]) for n in nodes(data)] == [item["id"] for item in rest.json()["data"]]
    assert data["totalCount"] == rest.json()["meta"]["total"]


@pytest.mark.parametrize(
    ("sort", "rest_sort"), [("STARTS_AT", "starts_at"), ("TITLE_DESC", "-title")]
)
def test_sorts_mirror_rest_and_cursors_are_interchangeable(
    demo_client: TestClient, sort: str, rest_sort: str
) -> None:
    first = gql(
        demo_client,
        f"{{ events(sort: {sort}, first: 1) {{ edges {{ node {{ id }} }} pageInfo {{ endCursor }} }} }}",
    )
    rest_all = demo_client.get("/api/v1/events", params={"sort": rest_sort, "fields": "id"}).json()[
        "data"
    ]
    assert public_id(nodes(first["events"])[0]["id"]) == rest_all[0]["id"]
    rest_next = demo_client.get(
        "/api/v1/events",
        params={
            "sort": rest_sort,
            "fields": "id",
            "cursor": first["events"]["pageInfo"]["endCursor"],
        },
    )
    assert [i["id"] for i in rest_next.json()["data"]] == [i["id"] for i in rest_all[1:]]


def test_topic_stream_feeds_and_fragments(demo_client: TestClient) -> None:
    data = gql(
        demo_client,
        """{ topic(slug: "kidnapping") { name feeds { rss atom json ics }
            stream(first: 100) { totalCount edges { node { __typename
              ... on Article { title authors { name } publishedAt }
              ... on Event { title speakers { name } publishedAt }
              ... on Publication { title authors { name } publishedAt }
              ... on Quote { text speaker { name } publishedAt } } } } } }""",
    )
    topic = data["topic"]
    assert topic["name"] == "Kidnapping"
    assert topic["feeds"]["rss"].endswith("/feeds/topics/kidnapping.rss")
    assert topic["feeds"]["ics"].endswith("/calendar/topics/kidnapping.ics")
    items = nodes(topic["stream"])
    assert len(items) == topic["stream"]["totalCount"] > 0
    dates = [item["publishedAt"] for item in items]
    assert dates == sorted(dates, reverse=True)
    rest = demo_client.get("/api/v1/topics/kidnapping/stream", params={"limit": 100}).json()["data"]
    assert [i["__typename"].lower() for i in items] == [i["type"] for i in rest]
    events_only = gql(
        demo_client,
        '{ topic(slug: "kidnapping") { stream(types: [EVENT]) { edges { node { __typename } } } } }',
    )
    assert {n["__typename"] for n in nodes(events_only["topic"]["stream"])} == {"Event"}


def test_person_relations_and_reverse_connections(demo_client: TestClient) -> None:
    data = gql(
        demo_client,
        """{ person(slug: "amichai-magen") { name feeds { rss ics }
            affiliations { role startYear endYear isPrimary isCurrent organization { name parent { name } } }
            events { totalCount edges { node { slug } } }
            spoke: events(filter: {role: SPEAKER}) { edges { node { slug } } }
            articles { totalCount } publications { totalCount } quotes { totalCount } } }""",
    )
    person = data["person"]
    assert person["feeds"]["rss"].endswith("/feeds/people/amichai-magen.rss")
    assert person["feeds"]["ics"] is None
    assert person["events"]["totalCount"] == 2
    assert [n["slug"] for n in nodes(person["spoke"])] == [SEMINAR]
    assert any(a["isPrimary"] for a in person["affiliations"])
    fsi = next(
        a for a in person["affiliations"] if a["organization"]["name"].startswith("Freeman Spogli")
    )
    assert fsi["startYear"] == 2023
    sandberg = gql(
        demo_client,
        '{ person(slug: "sheryl-sandberg") { quotes { totalCount edges { node { text speaker { slug } article { slug } } } } } }',
    )
    quotes = nodes(sandberg["person"]["quotes"])
    assert len(quotes) == sandberg["person"]["quotes"]["totalCount"] >= 1
    assert all(q["speaker"]["slug"] == "sheryl-sandberg" for q in quotes)


def test_article_relations(demo_client: TestClient) -> None:
    data = gql(
        demo_client,
        """{ article(slug: "sheryl-sandberg-screams-before-silence-stanford") {
            title articleType body bodyText heroImage { url } authors { name }
            quotes { text position } resources { name resourceType isConfidential }
            related { __typename ... on Article { slug } ... on Event { slug } ... on Resource { slug } }
            topics { slug } } }""",
    )
    article = data["article"]
    assert article["title"].startswith("Sheryl Sandberg Brings")
    assert "<" in article["body"]
    assert "<" not in article["bodyText"]
    assert [q["position"] for q in article["quotes"]] == [1, 2, 3]
    assert len(article["resources"]) == 5
    assert article["resources"][0]["resourceType"].isupper()
    assert "kidnapping" in [t["slug"] for t in article["topics"]]


def test_search_ranks_and_highlights(demo_client: TestClient) -> None:
    data = gql(
        demo_client,
        """{ search(query: "Sandberg", first: 2) { totalCount
            edges { cursor type score snippet node { __typename ... on Person { name } ... on Event { title } } }
            pageInfo { hasNextPage endCursor } } }""",
    )
    result = data["search"]
    edges = result["edges"]
    assert len(edges) == 2
    assert result["totalCount"] >= 3
    assert edges[0]["score"] >= edges[1]["score"]
    assert any("<mark>" in e["snippet"] for e in edges)
    rest = demo_client.get("/api/v1/search", params={"q": "Sandberg"}).json()["data"]
    assert [e["type"] for e in edges] == [r["type"].upper() for r in rest[:2]]
    more = gql(
        demo_client,
        'query($after: String) { search(query: "Sandberg", after: $after) { edges { type } } }',
        {"after": result["pageInfo"]["endCursor"]},
    )
    assert [e["type"] for e in more["search"]["edges"]] == [r["type"].upper() for r in rest[2:]]
    only_people = gql(
        demo_client, '{ search(query: "Sandberg", types: [PERSON]) { edges { type } } }'
    )
    assert {e["type"] for e in only_people["search"]["edges"]} == {"PERSON"}


def test_search_nodes_are_its_edges_nodes(demo_client: TestClient) -> None:
    """`nodes`, as every connection has: the items of the page, best first."""
    item = "__typename ... on Node { id } ... on Person { name } ... on Event { title }"
    data = gql(
        demo_client,
        f"""{{ search(query: "Sandberg", first: 3) {{
            nodes {{ {item} }} edges {{ node {{ {item} }} }} }} }}""",
    )
    nodes = data["search"]["nodes"]
    assert len(nodes) == 3
    assert nodes == [edge["node"] for edge in data["search"]["edges"]]


@pytest.mark.parametrize(
    ("query", "argument"),
    [
        ('{ events(after: "bogus") { totalCount } }', "after"),
        ("{ events(first: 0) { totalCount } }", "first"),
        ('{ events(filter: {person: ""}) { totalCount } }', "person"),
        ('{ topic(slug: "") { name } }', "slug"),
        ('{ article(id: "") { title } }', "id"),
        ('{ events(filter: {from: "0001-01-01T00:00:00Z"}) { totalCount } }', "from"),
        ('{ search(query: "!!!") { totalCount } }', "query"),
        ('{ events(filter: {q: "!!!"}) { totalCount } }', "q"),
        (
            '{ articles(filter: {publishedBefore: "9999-12-31T23:59:59Z"}) { totalCount } }',
            "publishedBefore",
        ),
        (
            '{ articles(filter: {publishedAfter: "0001-01-01T00:00:00Z"}) { totalCount } }',
            "publishedAfter",
        ),
        (
            '{ events(filter: {updatedSince: "0001-01-01T00:00:00Z"}) { totalCount } }',
            "updatedSince",
        ),
    ],
)
def test_bad_arguments_are_graphql_errors_naming_the_argument(
    demo_client: TestClient, query: str, argument: str
) -> None:
    response = post(demo_client, query)
    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"] == argument  # as the schema names it
    assert error["message"]


@pytest.mark.parametrize("after", ["x.é", "é.x"])
def test_a_cursor_that_is_not_ascii_is_refused(demo_client: TestClient, after: str) -> None:
    """Found by the generated-queries test: comparing a non-ASCII MAC raised a TypeError."""
    query = "query($c: String) { articles(after: $c) { totalCount } }"
    response = post(demo_client, query, {"c": after})
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "argument": "after",
    }
    with pytest.raises(InvalidToken):  # nor can a lone surrogate be encoded for the MAC
        decode_token("secret", "scope", "x.\ud800")


def test_a_cursor_of_another_list_is_refused(demo_client: TestClient) -> None:
    events = gql(demo_client, "{ events(first: 1) { pageInfo { endCursor } } }")
    cursor = events["events"]["pageInfo"]["endCursor"]
    response = post(
        demo_client, "query($c: String) { people(after: $c) { totalCount } }", {"c": cursor}
    )
    assert response.json()["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "argument": "after",
    }


def test_a_participant_has_the_title_the_event_gives_them(demo_client: TestClient) -> None:
    """The seed page's speaker cards give each speaker lines of their own, not the
    profile's title: Milani's card says Director of Iranian Studies."""
    query = """{ event(slug: "hamas-attack-on-israel-implications-for-israel-and-the-middle-east") {
        participants { role title person { slug title } } } }"""
    body = demo_client.post("/graphql", json={"query": query}).json()
    milani = next(
        p for p in body["data"]["event"]["participants"] if p["person"]["slug"] == "abbas-milani"
    )
    assert (
        milani["title"]
        == "Hamid and Christina Moghadam Director of Iranian Studies\nStanford University"
    )
    assert milani["person"]["title"] == "Research Fellow, Hoover Institution"


def test_a_blank_q_is_no_q_in_every_list_as_in_rest(demo_client: TestClient) -> None:
    """`q: "  "` was an error in a list (`must contain at least one word`), ignored by a
    topic's stream, and REST's `q=%20%20` ignored it too: now no words in every one."""
    query = """{ articles(filter: {q: "  "}) { totalCount }
      all: articles { totalCount }
      person(slug: "beatriz-magaloni") { events(filter: {q: " "}) { totalCount } every: events { totalCount } }
      topic(slug: "kidnapping") { stream(filter: {q: "  "}) { totalCount } whole: stream { totalCount } } }"""
    data = gql(demo_client, query)
    assert data["articles"]["totalCount"] == data["all"]["totalCount"] > 0
    rest = demo_client.get("/api/v1/articles", params={"q": "  "}).json()["meta"]["total"]
    assert rest == data["all"]["totalCount"]
    person = data["person"]
    assert person["events"]["totalCount"] == person["every"]["totalCount"] > 0
    stream = data["topic"]
    assert stream["stream"]["totalCount"] == stream["whole"]["totalCount"] > 0


def test_positions_of_affiliations_and_participants_are_rest_s(demo_client: TestClient) -> None:
    """API.md gives an affiliation (and REST a participant) its `position`: GraphQL had
    neither. Each is the item's place in its list, as REST says, a role filter aside."""
    query = (
        "{ events(first: 20) { edges { node { slug participants { position role person { slug } }"
        " hosts: participants(role: HOST) { position person { slug } } } } }"
        " people(first: 50) { edges { node { slug affiliations { position role } } } } }"
    )
    data = gql(demo_client, query)
    checked = 0
    for edge in data["events"]["edges"]:
        event = edge["node"]
        rest = demo_client.get(f"/api/v1/events/{event['slug']}?include=participants").json()
        expected = [(p["position"], p["role"], p["person"]["slug"]) for p in rest["participants"]]
        got = [
            (p["position"], p["role"].lower(), p["person"]["slug"]) for p in event["participants"]
        ]
        assert got == expected
        hosts = [(p, s) for p, r, s in expected if r == "host"]
        assert [(h["position"], h["person"]["slug"]) for h in event["hosts"]] == hosts
        checked += len(got)
    for edge in data["people"]["edges"]:
        person = edge["node"]
        rest = demo_client.get(f"/api/v1/people/{person['slug']}").json()
        assert [(a["position"], a["role"]) for a in person["affiliations"]] == [
            (a["position"], a["role"]) for a in rest["affiliations"]
        ]
        checked += len(person["affiliations"])
    assert checked > 20
