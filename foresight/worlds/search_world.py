"""A generated multi-hop search world: fictional entities, relations, a passage corpus, questions.

Entities are people, organizations, cities and countries with made-up names. Every entity
has one object per relation of its type (a functional knowledge base)::

    person.mentor -> person     person.birthplace -> city     person.employer -> organization
    organization.founder -> person     organization.headquarters -> city
    city.country -> country     country.capital -> city

Each fact is one passage in the wiki-18 format (title = subject, text = "The mentor of
Zorvak Tellin is Brimo Quast."), so a Search-R1 query such as "mentor of Zorvak Tellin"
retrieves it. Distractors: people share surnames (and organizations are named after
surnames), so BM25's top-k mixes the fact with near misses; ``distractors_per_entity``
adds passages that mention an entity next to unrelated ones without any relation word.

A question of h hops follows a relation path from a start entity: "What is the birthplace
of the mentor of Zorvak Tellin?" (2 hops: mentor, then birthplace). The oracle plan is one
query per hop ("mentor of Zorvak Tellin", then "birthplace of <answer of hop 1>").

Splits: a share of the entities of each type are evaluation start entities; evaluation
questions start only there and training questions never do, so the two splits share no
question and every evaluation (start entity, relation path) combination is unseen in
training. Generation is deterministic per config (seed included).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from pydantic import BaseModel, Field

from foresight.envs.retrieval import Passage
from foresight.tasks import Task
from foresight.worlds import draw_unique, make_names

SOURCE = "search_world"

# relation -> (subject type, object type)
RELATIONS: dict[str, tuple[str, str]] = {
    "mentor": ("person", "person"),
    "birthplace": ("person", "city"),
    "employer": ("person", "organization"),
    "founder": ("organization", "person"),
    "headquarters": ("organization", "city"),
    "country": ("city", "country"),
    "capital": ("country", "city"),
}
_ORG_KINDS = ["Guild", "Foundry", "Press", "Works", "Institute", "Company"]


class SearchWorldConfig(BaseModel):
    """Knobs of the search world (corpus size, hops, distractors, splits)."""

    seed: int = 0
    num_people: int = Field(240, ge=8)
    people_per_surname: int = Field(3, ge=1, description="people sharing a surname: near-miss retrieval distractors")
    num_organizations: int = Field(40, ge=2)
    num_cities: int = Field(30, ge=2)
    num_countries: int = Field(8, ge=2)
    distractors_per_entity: int = Field(1, ge=0, description="passages naming an entity beside unrelated ones")
    train_questions: dict[str, int] = Field(default_factory=lambda: {"1": 200, "2": 600, "3": 150, "4": 50},
                                            description="hops -> training questions")
    eval_questions: dict[str, int] = Field(default_factory=lambda: {"1": 30, "2": 50, "3": 20, "4": 10},
                                           description="hops -> evaluation questions")
    eval_entity_fraction: float = Field(0.25, gt=0.0, lt=1.0, description="share of entities that start only evaluation questions")


@dataclass
class SearchWorld:
    """A generated world.

    Attributes:
        entities: type -> names.
        facts: (subject, relation) -> object.
        passages: the corpus, one passage per fact plus distractor passages.
        train, eval: questions as tasks (``oracle``: queries, hop_answers, distractors,
            relations, hops).
    """

    entities: dict[str, list[str]]
    facts: dict[tuple[str, str], str]
    passages: list[Passage]
    train: list[Task]
    eval: list[Task]

    def stats(self) -> dict:
        """Counts for asset metadata: entities, passages, questions per split and hops."""
        def by_hops(tasks):
            return {str(k): v for k, v in sorted(Counter(t.oracle["hops"] for t in tasks).items())}

        return {
            "entities": {k: len(v) for k, v in self.entities.items()}, "facts": len(self.facts),
            "passages": len(self.passages), "train_questions": by_hops(self.train),
            "eval_questions": by_hops(self.eval),
        }


def fact_text(subject: str, relation: str, obj: str) -> str:
    """The sentence of one fact: ``The <relation> of <subject> is <object>.``"""
    return f"The {relation} of {subject} is {obj}."


def hop_query(relation: str, subject: str) -> str:
    """The oracle's search query for one hop: ``<relation> of <subject>``."""
    return f"{relation} of {subject}"


def question_text(start: str, relations: list[str]) -> str:
    """``What is the r_h of the r_{h-1} of ... the r_2 of <r_1 of start>?``"""
    phrase = start
    for relation in relations[:-1]:
        phrase = f"the {relation} of {phrase}"
    return f"What is the {relations[-1]} of {phrase}?"


def _entities(cfg: SearchWorldConfig, rng: random.Random) -> dict[str, list[str]]:
    taken: set[str] = set()
    surnames = make_names(rng, max(1, -(-cfg.num_people // cfg.people_per_surname)), 2, taken)
    first_names = make_names(rng, cfg.num_people, 2, taken)
    people = [f"{first} {surnames[i % len(surnames)]}" for i, first in enumerate(first_names)]
    org_bases = make_names(rng, cfg.num_organizations, 2, taken)
    # Half of the organizations carry a surname, so "employer of X Tellin" meets "Tellin Press".
    orgs = [f"{surnames[i % len(surnames)] if i % 2 else base} {rng.choice(_ORG_KINDS)}" for i, base in enumerate(org_bases)]
    orgs = list(dict.fromkeys(orgs))
    return {
        "person": people, "organization": orgs, "city": make_names(rng, cfg.num_cities, 3, taken),
        "country": make_names(rng, cfg.num_countries, 3, taken),
    }


def _facts(entities: dict[str, list[str]], rng: random.Random) -> dict[tuple[str, str], str]:
    facts: dict[tuple[str, str], str] = {}
    countries = entities["country"]
    for city in entities["city"]:
        facts[(city, "country")] = rng.choice(countries)
    for country in countries:
        own = [c for c in entities["city"] if facts[(c, "country")] == country]
        facts[(country, "capital")] = rng.choice(own or entities["city"])
    for person in entities["person"]:
        facts[(person, "mentor")] = rng.choice([p for p in entities["person"] if p != person])
        facts[(person, "birthplace")] = rng.choice(entities["city"])
        facts[(person, "employer")] = rng.choice(entities["organization"])
    for org in entities["organization"]:
        facts[(org, "founder")] = rng.choice(entities["person"])
        facts[(org, "headquarters")] = rng.choice(entities["city"])
    return facts


def _passages(entities, facts, cfg: SearchWorldConfig, rng: random.Random) -> list[Passage]:
    passages = [
        Passage(f"{SOURCE}:fact:{i}", subject, fact_text(subject, relation, obj))
        for i, ((subject, relation), obj) in enumerate(sorted(facts.items()))
    ]
    everyone = [name for names in entities.values() for name in names]
    for name in sorted(everyone):
        for _ in range(cfg.distractors_per_entity):
            a, b = rng.sample([e for e in everyone if e != name], 2)
            passages.append(Passage(f"{SOURCE}:note:{len(passages)}", name, f"{name} once met {a} and wrote about {b}."))
    rng.shuffle(passages)
    return passages


def _paths(start_type: str, hops: int) -> list[list[str]]:
    """All relation paths of ``hops`` relations that start at an entity of ``start_type``."""
    paths = [[]]
    types = [start_type]
    for _ in range(hops):
        grown, grown_types = [], []
        for path, current in zip(paths, types):
            for relation, (subject_type, object_type) in RELATIONS.items():
                if subject_type == current:
                    grown.append(path + [relation])
                    grown_types.append(object_type)
        paths, types = grown, grown_types
    return paths


def _question(start: str, start_type: str, relations: list[str], facts, entities, index: int, split: str) -> Task | None:
    chain = [start]
    for relation in relations:
        chain.append(facts[(chain[-1], relation)])
    if len(set(chain)) < len(chain):  # a cycle (X's mentor's mentor is X) makes a confusing question
        return None
    queries = [hop_query(r, e) for r, e in zip(relations, chain)]
    findings = [fact_text(e, r, o) for r, e, o in zip(relations, chain, chain[1:])]
    surname_peers = [p for p in entities["person"] if p.split()[-1] in {c.split()[-1] for c in chain} and p not in chain]
    return Task(
        task_id=f"{SOURCE}:{split}:{index}", domain="search", question=question_text(start, relations),
        gold_answers=[chain[-1]], source=SOURCE, corpus=SOURCE,
        oracle={"queries": queries, "findings": findings, "hop_answers": chain[1:-1], "distractors": surname_peers[:6],
                "relations": relations, "hops": len(relations), "start_type": start_type,
                "answer_key": relations[-1]},
    )


def _questions(starts: dict[str, list[str]], counts: dict[str, int], facts, entities, rng: random.Random,
               split: str, seen: set[str]) -> list[Task]:
    def make(hops: int, index: int) -> Task | None:
        start_type, relations = rng.choice([(t, p) for t in starts if starts[t] for p in _paths(t, hops)])
        return _question(rng.choice(starts[start_type]), start_type, relations, facts, entities, index, split)

    return draw_unique(counts, make, seen)


def generate_search_world(cfg: SearchWorldConfig) -> SearchWorld:
    """Generate the world of ``cfg`` (same config, same world, byte for byte).

    Returns:
        A :class:`SearchWorld`; ``len(train)``/``len(eval)`` may fall short of the requested
        counts only when the world is too small to hold that many distinct questions.

    Raises:
        ValueError: a name space too small for the requested entity counts.
    """
    rng = random.Random(f"search-world:{cfg.seed}")
    entities = _entities(cfg, rng)
    facts = _facts(entities, rng)
    passages = _passages(entities, facts, cfg, rng)
    eval_starts, train_starts = {}, {}
    for kind, names in entities.items():
        shuffled = sorted(names)
        rng.shuffle(shuffled)
        cut = max(1, round(len(shuffled) * cfg.eval_entity_fraction))
        eval_starts[kind], train_starts[kind] = shuffled[:cut], shuffled[cut:]
    seen: set[str] = set()
    train = _questions(train_starts, cfg.train_questions, facts, entities, rng, "train", seen)
    evaluation = _questions(eval_starts, cfg.eval_questions, facts, entities, rng, "eval", seen)
    return SearchWorld(entities, facts, passages, train, evaluation)
