"""QuestionnaireResponse: a resident's answers to one of the screening forms (resources/questionnaires.py).

Each response is checked against its form on write: ``questionnaire`` must be one of the forms served (its
canonical URL, optionally with ``|version``), each item a question of that form answered once, with the element
and within the range or pattern the question takes; a completed (or amended) response answers every question
asked. Each refusal names the exact element at fault. As for an Observation, every reference is a search
parameter and so checked on write, and a response given during a visit is about the visit's patient. It belongs
to the compartments of its subject and of a Patient who authored it (FHIR R4's Patient CompartmentDefinition).

``instruments_from`` turns the stored responses of one visit into the rules engine's input.
"""

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from ilp_api.fhir.datatypes import (
    Attachment,
    Coding,
    Decimal,
    FhirDate,
    FhirDateTime,
    HasExtensions,
    Identifier,
    Integer,
    Quantity,
    Reference,
    Resource,
    Time,
    Uri,
    choice,
)
from ilp_api.fhir.outcome import Issue, Unprocessable, shown
from ilp_api.fhir.registry import (
    EARLIEST,
    Json,
    ResourceDefinition,
    SearchParameter,
    SearchType,
    Token,
    WriteContext,
    codes,
    date_range,
    dates,
    references,
    registry,
)
from ilp_api.fhir.visibility_rules import InPatientCompartment
from ilp_api.ilp.inputs import Instruments
from ilp_api.resources.observation import check_visit_patient
from ilp_api.resources.questionnaires import FORM_VERSION, FORMS, Answers, Form, Question

# The statuses of a response whose answers are final: every question asked must be answered, and they count.
FINAL_STATUSES = frozenset({"completed", "amended"})

# R4's answer value[x], every type of it.
AnswerValue = choice(
    "value",
    Boolean=bool,
    Decimal=Decimal,
    Integer=Integer,
    Date=FhirDate,
    DateTime=FhirDateTime,
    Time=Time,
    String=str,
    Uri=Uri,
    Attachment=Attachment,
    Coding=Coding,
    Quantity=Quantity,
    Reference=Reference,
)


class QuestionnaireResponseAnswer(HasExtensions, AnswerValue):  # type: ignore[misc, valid-type]
    item: list["QuestionnaireResponseItem"] | None = None


class QuestionnaireResponseItem(HasExtensions):
    link_id: str = Field(alias="linkId")
    definition: Uri | None = None
    text: str | None = None
    answer: list[QuestionnaireResponseAnswer] | None = None
    item: list["QuestionnaireResponseItem"] | None = None


QuestionnaireResponseAnswer.model_rebuild()  # now that the item it nests is defined


class QuestionnaireResponse(Resource):
    identifier: Identifier | None = None
    based_on: list[Reference] | None = Field(None, alias="basedOn")
    part_of: list[Reference] | None = Field(None, alias="partOf")
    # Required here, unlike in R4: the answers are checked against their form.
    questionnaire: Uri
    status: Literal["in-progress", "completed", "amended", "entered-in-error", "stopped"]
    # Required here, unlike in R4: every ILP screening is about a resident.
    subject: Reference
    encounter: Reference | None = None
    authored: FhirDateTime | None = None
    author: Reference | None = None
    source: Reference | None = None
    item: list[QuestionnaireResponseItem] | None = None


# ---- the answers, checked against the form ----


def check_response(context: WriteContext, _model: Any, data: Json) -> Json:
    check_visit_patient(context, data)
    form = form_answered(data["questionnaire"], context.canonical_base)
    issues = list(answer_problems(form, data))
    if issues:
        raise Unprocessable(issues[0].diagnostics, issues=issues)
    return data


def form_answered(canonical: str, canonical_base: str) -> Form:
    """The form a ``questionnaire`` canonical (``url`` or ``url|version``) names; a 422 naming the known ones."""
    url, version = split_canonical(canonical)
    form = next((form for form in FORMS if form.canonical(canonical_base) == url), None)
    if form is None:
        raise Unprocessable(
            f"{shown(canonical)} is not a Questionnaire of this server: use {canonical_base}/Questionnaire/ followed "
            f"by one of {', '.join(known.id for known in FORMS)}",
            expression="QuestionnaireResponse.questionnaire",
        )
    if version and version != FORM_VERSION:
        raise Unprocessable(
            f"Questionnaire {form.id} is served in version {FORM_VERSION}, not {shown(version)}: send {url} or "
            f"{url}|{FORM_VERSION}",
            expression="QuestionnaireResponse.questionnaire",
        )
    return form


def answer_problems(form: Form, response: Json) -> Iterator[Issue]:
    """Each item names a question of ``form`` once and answers it as the question takes; a final response answers
    every question asked. Whether a question is asked (enableWhen) depends on the answers given."""
    items = response.get("item", [])
    answers = answers_of(items)
    asked = {question.link_id for question in form.questions if question.is_asked(answers)}
    first_item: dict[str, int] = {}
    for index, item in enumerate(items):
        path, link_id = f"QuestionnaireResponse.item[{index}]", item["linkId"]
        question = form.questions_by_link_id.get(link_id)
        if question is None:
            yield Issue(
                f"{shown(link_id)} is not a question of Questionnaire {form.id}; its linkIds are "
                f"{', '.join(form.questions_by_link_id)}",
                "structure",
                f"{path}.linkId",
            )
        elif link_id in first_item:
            yield Issue(
                f"{link_id} is answered in item[{first_item[link_id]}] already: give each question one item",
                "structure",
                f"{path}.linkId",
            )
        else:
            first_item[link_id] = index
            yield from item_problems(question, item, path, is_asked=link_id in asked)
    if response["status"] in FINAL_STATUSES:
        for question in form.questions:
            if question.link_id in asked and question.link_id not in answers:
                position = first_item.get(question.link_id)
                yield Issue(
                    f"{question.link_id} is required in a {response['status']} response: answer it, or send status "
                    "in-progress",
                    "required",
                    "QuestionnaireResponse.item" if position is None else f"QuestionnaireResponse.item[{position}]",
                )


def item_problems(question: Question, item: Json, path: str, *, is_asked: bool) -> Iterator[Issue]:
    """One answer, of the element the question takes, within its range or pattern; no nested items."""
    link_id, given = question.link_id, item.get("answer", [])
    if "item" in item:
        yield Issue(f"{link_id} is a question, not a group: it has no nested items", "structure", f"{path}.item")
    if given and not is_asked:
        yield Issue(
            f"{link_id} is asked only when {question.only_if_yes_to} is answered true: leave it out",
            "invalid",
            f"{path}.answer",
        )
        return
    if len(given) > 1:
        yield Issue(f"{link_id} takes one answer, not {len(given)}", "value", f"{path}.answer[1]")
    for number, answer in enumerate(given):
        answer_path = f"{path}.answer[{number}]"
        if "item" in answer:
            yield Issue(f"The answer to {link_id} has no nested items", "structure", f"{answer_path}.item")
        element, value = value_of(answer)
        if element is None:
            yield Issue(f"The answer to {link_id} has no value: send {question.expected}", "required", answer_path)
        elif element != question.value_element or not question.accepts(value):
            yield Issue(
                f"{link_id} is answered with {question.expected}, not {element} {shown(value)}",
                "value",
                f"{answer_path}.{element}",
            )


def value_of(answer: Json) -> tuple[str | None, Any]:
    """The answer's value[x] element and its value (the model lets at most one through)."""
    return next(((name, value) for name, value in answer.items() if name.startswith("value")), (None, None))


def answers_of(items: Sequence[Json]) -> Answers:
    """The value of each question's first answer, by linkId (the first item naming it)."""
    answers: dict[str, Any] = {}
    for item in items:
        given = item.get("answer", [])
        _, value = value_of(given[0]) if given else (None, None)
        if value is not None:
            answers.setdefault(item["linkId"], value)
    return answers


# ---- to the rules engine ----


def instruments_from(responses: Sequence[Json], canonical_base: str) -> Instruments:
    """The engine's instruments from the QuestionnaireResponses of one visit, as stored (so checked by
    ``check_response``: a final response answers every question asked).

    Only final answers count: a response in progress, stopped or entered in error is left out. When one
    instrument was answered more than once (say the ADL items and later the total), the response authored last
    counts. Responses to questionnaires that are not the engine's are left out.
    """
    forms = {form.canonical(canonical_base): form for form in FORMS}
    counted = [
        response
        for response in responses
        if response.get("status") in FINAL_STATUSES and split_canonical(response["questionnaire"])[0] in forms
    ]
    instruments = Instruments()
    for response in sorted(counted, key=authored):
        form = forms[split_canonical(response["questionnaire"])[0]]
        instruments = form.fill(instruments, answers_of(response.get("item", [])))
    return instruments


def authored(response: Json) -> datetime:
    """When the response was authored, for ordering; one without ``authored`` comes first."""
    return date_range(response["authored"]).low if "authored" in response else EARLIEST


def split_canonical(canonical: str) -> tuple[str, str]:
    """``url|version`` → (url, version); the version is "" when the canonical names none."""
    url, _, version = canonical.partition("|")
    return url, version


# ---- search ----


def questionnaire_tokens(response: Json) -> Iterator[Token]:
    """The form answered, so that ``questionnaire=url`` finds a response to any version and
    ``questionnaire=url|version`` one to that version (a canonical's ``|`` read as a token's)."""
    url, version = split_canonical(response["questionnaire"])
    yield Token("", url)
    if version:
        yield Token(url, version)


registry.register(
    ResourceDefinition(
        type="QuestionnaireResponse",
        model=QuestionnaireResponse,
        description=(
            "A resident's answers to one of the screening forms at /fhir/Questionnaire, checked against it: SRQ-20, "
            "PUMA, ADL, SKILAS, KPSP, TB symptoms, visus, whisper test."
        ),
        apply_rules=check_response,
        search_parameters=(
            SearchParameter(
                "identifier",
                SearchType.TOKEN,
                "A business identifier",
                codes("identifier"),
                example="https://posyandu-app.example/kuesioner|Q-0001",
            ),
            SearchParameter(
                "questionnaire",
                SearchType.TOKEN,
                "The form answered: its canonical URL (any version), or url|version",
                questionnaire_tokens,
                example="http://ilp-api.example/fhir/Questionnaire/srq-20",
            ),
            SearchParameter(
                "status",
                SearchType.TOKEN,
                "in-progress | completed | amended | …",
                codes("status"),
                example="completed",
            ),
            SearchParameter(
                "patient", SearchType.REFERENCE, "Who it is about", references("subject"), targets=("Patient",)
            ),
            SearchParameter(
                "subject", SearchType.REFERENCE, "Who it is about", references("subject"), targets=("Patient",)
            ),
            SearchParameter(
                "encounter",
                SearchType.REFERENCE,
                "The visit it was given in",
                references("encounter"),
                targets=("Encounter",),
            ),
            SearchParameter("authored", SearchType.DATE, "When it was answered", dates("authored")),
            SearchParameter(
                "author",
                SearchType.REFERENCE,
                "Who recorded the answers (a resident filling in the form is a Patient)",
                references("author"),
                targets=("Practitioner", "PractitionerRole", "Patient", "Organization"),
            ),
            SearchParameter(
                "source",
                SearchType.REFERENCE,
                "Who gave the answers",
                references("source"),
                targets=("Patient", "Practitioner", "PractitionerRole"),
            ),
            SearchParameter(
                "based-on",
                SearchType.REFERENCE,
                "The request it fulfils",
                references("basedOn"),
                targets=("ServiceRequest",),
            ),
            SearchParameter(
                "part-of",
                SearchType.REFERENCE,
                "The observation it is part of",
                references("partOf"),
                targets=("Observation",),
            ),
        ),
        compartment=("patient", "author"),
        scope_rules=(InPatientCompartment(),),
        patient_data=True,
    )
)
