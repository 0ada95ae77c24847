"""The workspace file's schema. The published JSON Schema is generated from these models.

Unknown keys are errors (``extra="forbid"``): a misspelt key silently ignored is a guarantee
silently missing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from guarantor.errors import NotFound
from guarantor.guarantees.channels import Channel
from guarantor.guarantees.sources import SourceSpec
from guarantor.guarantees.spec import Guarantee, Indicator

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=64)]
Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
MAX_TEXT = 2000
"""Characters in one text field (a title, a task): a paragraph, not a document."""
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)]
Answer = Annotated[str, StringConstraints(max_length=2 * MAX_TEXT)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ValueProposition(Strict):
    """A person's answers to the three questions of the value proposition."""

    outcomes_delivered: Answer | None = Field(
        None, description="What outcomes do I consistently deliver that matter to others?"
    )
    problems_obsessed_with: Answer | None = Field(None, description="What problems am I obsessed with solving?")
    perspective: Answer | None = Field(None, description="What perspective do I bring that AI can't replicate?")


VALUE_QUESTIONS = {key: field.description or key for key, field in ValueProposition.model_fields.items()}
"""Each question of the value proposition, as `init`, the template and the web form ask it."""
VALUE_LABELS = {
    "outcomes_delivered": "Outcomes I consistently deliver",
    "problems_obsessed_with": "Problems I am obsessed with",
    "perspective": "The perspective I bring that AI can't replicate",
}


def task_id(given: str | None, index: int) -> str:
    """A task's id, or the one a task written without one goes by: its place in the file."""
    return given or f"task-{index + 1}"


def value_answers(answers: Mapping[str, str | None] | None) -> list[tuple[str, str]]:
    """(label, answer) of each question answered, labelled alike in the report and on the pages."""
    return [(label, answer) for key, label in VALUE_LABELS.items() if (answer := (answers or {}).get(key))]


class Person(Strict):
    id: Id
    name: Text
    role: Text = Field(
        description="An O*NET occupation: its title, its code (15-1252.00), both, or a job title people use that "
        "names one (Sr. DevOps Engineer); one naming none or several is refused with the candidates."
    )
    hours_week: float = Field(40.0, gt=0, le=168)
    value_proposition: ValueProposition | None = None


class Task(Strict):
    id: Id | None = Field(None, description="Optional; tasks are numbered when it is absent.")
    text: Text
    hours_week: float | None = Field(
        None,
        ge=0,
        le=168,
        description="Hours a week; absent: the owner's remaining hours are spread over such tasks.",
    )
    owner: Id | None = Field(None, description="The id of the person who does it.")
    serves: list[Id] = Field(default_factory=list, description="Ids of the outcomes this task serves.")


class OutcomeFields(Strict):
    """An outcome as people write it; ``Outcome`` adds how it is guaranteed."""

    id: Id
    title: Text
    for_whom: Text = Field(description="The beneficiary: who gets the value.")
    need: Text | None = Field(None, description="The need of theirs it meets.")
    indicator: Text | None = Field(None, description="What shows whether they got it.")
    target: Text | None = Field(None, description="The level of the indicator that counts as delivered.")
    owner: Id | None = None


class Outcome(OutcomeFields):
    guarantee: Guarantee | None = Field(
        None, description="How the outcome is measured: indicators from sources, on a schedule, against targets."
    )

    def indicator_name(self, indicator: Indicator) -> str:
        """The name people read for one of this outcome's indicators: the id is a handle for files
        and commands, and reads as one in a report a manager forwards."""
        if indicator.name:
            return indicator.name
        if self.indicator and self.guarantee is not None and len(self.guarantee.indicators) == 1:
            return self.indicator
        return indicator.id.replace("-", " ").replace("_", " ")

    def fields(self) -> OutcomeFields:
        """The outcome as people wrote it, without its guarantee (what the pages list)."""
        return OutcomeFields.model_construct(**{name: getattr(self, name) for name in OutcomeFields.model_fields})


class WorkLink(Strict):
    item: Text = Field(description="source:external id, such as jira:PAY-12 or github:acme/shop#42.")
    outcome: Id


class WorkMapping(Strict):
    """How imported work maps to outcomes, besides labels written ``outcome:ID`` on the items."""

    links: list[WorkLink] = Field(default_factory=list)
    epics: dict[str, Id] = Field(default_factory=dict, description="Epic, milestone or project name -> outcome.")
    components: dict[str, Id] = Field(default_factory=dict, description="Jira component -> outcome.")
    labels: dict[str, Id] = Field(default_factory=dict, description="Label -> outcome.")


class System(Strict):
    """A running system: what it does, for whom, and which outcomes it delivers today."""

    id: Id
    name: Text
    does: Text = Field(description="What it does, in a sentence.")
    for_whom: Text
    users: int | None = Field(None, ge=0, le=10**10, description="How many people use it.")
    serves: list[Id] = Field(default_factory=list, description="Ids of the outcomes it delivers.")
    owner: Id | None = None
    replacement: Text | None = Field(None, description="The planned replacement, if any.")


class Workspace(Strict):
    version: int = Field(1, ge=1, le=1)
    key: Key | None = Field(
        None,
        description="The workspace's stable key in a shared database and in web addresses; absent: its name as "
        "a slug. Set it once and keep it: the history follows the key, not the file's path.",
    )
    name: Text
    people: list[Person] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)
    outcomes: list[Outcome] = Field(default_factory=list)
    work: WorkMapping = Field(default_factory=WorkMapping)
    systems: list[System] = Field(default_factory=list)
    sources: dict[Id, SourceSpec] = Field(
        default_factory=dict, description="Named data sources the guarantees read; secrets as {env: NAME}."
    )
    alerts: dict[Id, Channel] = Field(
        default_factory=dict, description="Named alert channels (webhook, email) that guarantees notify."
    )

    def outcome(self, outcome_id: str, *, guaranteed: bool = False) -> Outcome:
        """The outcome of that id (one with a guarantee, when ``guaranteed``); NotFound naming the
        ones there are."""
        found = next((o for o in self.outcomes if o.id == outcome_id), None)
        if found is not None and (found.guarantee is not None or not guaranteed):
            return found
        these = [o.id for o in self.outcomes if o.guarantee is not None or not guaranteed]
        kind = "outcome with a guarantee" if guaranteed else "outcome"
        raise NotFound(f"No {kind} {outcome_id!r}.", hint=f"{kind.capitalize()}s: {', '.join(these) or 'none yet'}.")

    def person_for(self, username: str) -> str:
        """The workspace person a logged-in user is: the one whose id, or name, is the username
        (case aside); else the username itself. A check-in made on the web then has the same
        author as one `guarantor record --by` makes."""
        wanted = username.casefold()
        found = next((p.id for p in self.people if wanted in (p.id.casefold(), p.name.casefold())), None)
        return found or username


def slug(text: str, length: int = 64, empty: str = "workspace") -> str:
    """A name as an id or key: lower-case letters and digits joined by single hyphens."""
    return "-".join(re.findall(r"[a-z0-9]+", text.lower()))[:length].strip("-") or empty


def key_of(ws: Workspace) -> str:
    return ws.key or slug(ws.name)


def json_schema() -> str:
    schema = Workspace.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://guarantor.dev/schema/guarantor.schema.json"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
