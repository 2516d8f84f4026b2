"""The screening forms the rules engine reads (profile §6.10–§6.16, §11), published read-only as FHIR R4
Questionnaires at /fhir/Questionnaire under the canonical base. Clinic applications record a resident's answers
as QuestionnaireResponses (resources/questionnaire_response.py), checked against these forms and turned into the
engine's ``Instruments``.

How the instruments became forms:

- An instrument with two forms of input is two Questionnaires, so that no form branches: ADL is the ten Barthel
  items (``adl-barthel``) or their total (``adl-barthel-total``); visus is Snellen fractions (``visus``) or finger
  counting (``visus-hitung-jari``); TB symptoms are the adult list (``tb-gejala-dewasa``, ≥15 y) or the child list
  (``tb-gejala-anak``, <15 y), each with the two contact questions. Either form of one instrument fills the same
  engine input.
- KPSP is its yes count: its ten questions differ for each of the sixteen age bands, which the profile does not
  carry, and the engine needs the count only.
- linkIds are the evaluate API's input names (§11) in kebab-case (ADL items, SKILAS domains and TB symptoms are
  the §11 codes themselves), except SRQ-20's ``srq-1`` … ``srq-20`` and PUMA's ``ever-smoked``, which asks what
  the paper form asks ("Apakah Anda pernah merokok?") rather than its negation.
- Every question is required in a completed response: a screening answer left out is not a "no". PUMA's pack
  years are asked only after a yes to ``ever-smoked`` (enableWhen).
- Texts are the forms' own where the profile's source (JUK, via mlengse/ilp-docs) prints them: SRQ-20 (Formulir
  6), PUMA, SKILAS (Formulir 5), the adult TB form and the child TB symptoms; the ADL items, visus and the
  whisper test get short descriptive texts.
- SDQ is not published: the engine has no SDQ rules.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ilp_api.fhir.in_memory import fixed_resources_type
from ilp_api.fhir.providers import providers
from ilp_api.fhir.registry import Json, SearchParameter, SearchType, codes, strings
from ilp_api.ilp.classify.adl import ITEM_MAXIMA, MAX_TOTAL
from ilp_api.ilp.classify.skilas import DOMAINS
from ilp_api.ilp.inputs import Adl, Instruments, Puma, TbSymptoms, Visus

# A form's own version, changed only when its questions change: a response's ``questionnaire|version`` stays
# valid across releases of the server.
FORM_VERSION = "1.0.0"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
REGEX = "http://hl7.org/fhir/StructureDefinition/regex"
ENTRY_FORMAT = "http://hl7.org/fhir/StructureDefinition/entryFormat"

AnswerType = Literal["boolean", "integer", "decimal", "string"]
# linkId → the value of its answer, as a completed response holds them.
Answers = Mapping[str, Any]


@dataclass(frozen=True)
class Question:
    link_id: str
    text: str
    type: AnswerType
    bounds: tuple[float, float] | None = None  # the lowest and highest number allowed, both included
    pattern: str | None = None  # a string answer matches it whole
    entry_format: str | None = None  # the pattern in words, for the person entering the answer
    only_if_yes_to: str | None = None  # asked only when this boolean question is answered true

    @property
    def value_element(self) -> str:
        """The QuestionnaireResponse element that answers it: ``valueBoolean``, ``valueInteger`` …"""
        return "value" + self.type.capitalize()

    @property
    def expected(self) -> str:
        """What an answer must be, in words: ``valueInteger from 0 to 2``."""
        if self.bounds is not None:
            low, high = self.bounds
            return f"{self.value_element} from {low:g} to {high:g}"
        if self.pattern is not None:
            return f"{self.value_element} matching {self.pattern} ({self.entry_format})"
        return f"{self.value_element} (true or false)" if self.type == "boolean" else self.value_element

    def accepts(self, value: Any) -> bool:
        """Whether a value of the right type is within the bounds or matches the pattern."""
        if self.bounds is not None:
            low, high = self.bounds
            return bool(low <= value <= high)
        return self.pattern is None or re.fullmatch(self.pattern, value) is not None

    def is_asked(self, answers: Answers) -> bool:
        return self.only_if_yes_to is None or answers.get(self.only_if_yes_to) is True

    def to_fhir(self) -> Json:
        item: Json = {"linkId": self.link_id, "text": self.text, "type": self.type, "required": True}
        if self.only_if_yes_to is not None:
            item["enableWhen"] = [{"question": self.only_if_yes_to, "operator": "=", "answerBoolean": True}]
        extensions = []
        if self.bounds is not None:
            low, high = self.bounds
            extensions += [{"url": MIN_VALUE, self.value_element: low}, {"url": MAX_VALUE, self.value_element: high}]
        if self.pattern is not None:
            extensions += [{"url": REGEX, "valueString": self.pattern}]
        if self.entry_format is not None:
            extensions += [{"url": ENTRY_FORMAT, "valueString": self.entry_format}]
        if extensions:
            item["extension"] = extensions
        return item


def yes_no(link_id: str, text: str) -> Question:
    return Question(link_id, text, "boolean")


def whole_number(link_id: str, text: str, highest: int) -> Question:
    """An integer question from 0 to ``highest``: a score or a count."""
    return Question(link_id, text, "integer", bounds=(0, highest))


@dataclass(frozen=True)
class Form:
    """One Questionnaire, and how its answers fill the engine's input."""

    id: str
    name: str
    title: str
    description: str
    questions: tuple[Question, ...]
    # The engine's instruments with this form's answers put in (replacing any earlier form of the same instrument).
    fill: Callable[[Instruments, Answers], Instruments]
    questions_by_link_id: Mapping[str, Question] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "questions_by_link_id", {q.link_id: q for q in self.questions})

    def canonical(self, canonical_base: str) -> str:
        return f"{canonical_base}/Questionnaire/{self.id}"

    def to_fhir(self, canonical_base: str) -> Json:
        return {
            "resourceType": "Questionnaire",
            "id": self.id,
            "url": self.canonical(canonical_base),
            "version": FORM_VERSION,
            "name": self.name,
            "title": self.title,
            "status": "active",
            "experimental": False,
            "subjectType": ["Patient"],
            "publisher": "ILP API",
            "description": self.description,
            "item": [question.to_fhir() for question in self.questions],
        }


def answered_yes(answers: Answers, questions: tuple[Question, ...]) -> tuple[str, ...]:
    return tuple(question.link_id for question in questions if answers[question.link_id])


# ---- SRQ-20 (§6.10; JUK K3 Jiwa, Formulir 6) ----

SRQ20_TEXTS = (
    "Apakah Anda sering merasa sakit kepala?",
    "Apakah Anda kehilangan nafsu makan?",
    "Apakah tidur Anda tidak nyenyak?",
    "Apakah Anda mudah merasa takut?",
    "Apakah Anda merasa cemas, tegang, atau khawatir?",
    "Apakah tangan Anda gemetar?",
    "Apakah Anda mengalami gangguan pencernaan?",
    "Apakah Anda merasa sulit berpikir jernih?",
    "Apakah Anda merasa tidak bahagia?",
    "Apakah Anda lebih sering menangis?",
    "Apakah Anda merasa sulit untuk menikmati aktivitas sehari-hari?",
    "Apakah Anda mengalami kesulitan untuk mengambil keputusan?",
    "Apakah aktivitas/tugas sehari-hari Anda terbengkalai?",
    "Apakah Anda merasa tidak mampu berperan dalam kehidupan ini?",
    "Apakah Anda kehilangan minat terhadap banyak hal?",
    "Apakah Anda merasa tidak berharga?",
    "Apakah Anda mempunyai pikiran untuk mengakhiri hidup Anda?",
    "Apakah Anda merasa lelah sepanjang waktu?",
    "Apakah Anda merasa tidak enak di perut?",
    "Apakah Anda mudah lelah?",
)
SRQ20 = tuple(yes_no(f"srq-{number}", text) for number, text in enumerate(SRQ20_TEXTS, start=1))


def fill_srq20(instruments: Instruments, answers: Answers) -> Instruments:
    return replace(instruments, srq20=tuple(answers[question.link_id] for question in SRQ20))


# ---- PUMA (§6.11; JUK Kuesioner PUMA). Sex and age come from the Patient. ----

PACK_YEARS_PLAUSIBLE = (0, 300)  # as the evaluate API takes them (§5)
PUMA = (
    yes_no(
        "ever-smoked",
        "Apakah Anda pernah merokok? Jika merokok kurang dari 20 bungkus selama hidup atau kurang dari 1 rokok/hari "
        "dalam 1 tahun, jawab Tidak.",
    ),
    Question(
        "pack-years",
        "Pack years = lama merokok dalam tahun × jumlah rokok per hari / 20",
        "decimal",
        bounds=PACK_YEARS_PLAUSIBLE,
        only_if_yes_to="ever-smoked",
    ),
    yes_no(
        "dyspnoea",
        "Apakah Anda pernah merasa napas pendek ketika Anda berjalan lebih cepat pada jalan yang datar atau pada "
        "jalan yang sedikit menanjak?",
    ),
    yes_no(
        "sputum",
        "Apakah Anda biasanya mempunyai dahak yang berasal dari paru atau kesulitan mengeluarkan dahak saat Anda "
        "sedang tidak menderita selesma/flu?",
    ),
    yes_no("cough", "Apakah Anda biasanya batuk saat Anda sedang tidak menderita selesma/flu?"),
    yes_no(
        "spirometry-referral",
        "Apakah dokter atau tenaga medis lainnya pernah meminta Anda untuk melakukan pemeriksaan spirometri atau "
        "peak flow meter (meniup ke dalam suatu alat) untuk mengetahui fungsi paru Anda?",
    ),
)


def fill_puma(instruments: Instruments, answers: Answers) -> Instruments:
    smoked = answers["ever-smoked"]
    puma = Puma(
        never_smoked=not smoked,
        pack_years=float(answers["pack-years"]) if smoked else 0.0,
        dyspnoea=answers["dyspnoea"],
        sputum=answers["sputum"],
        cough=answers["cough"],
        spirometry_referral=answers["spirometry-referral"],
    )
    return replace(instruments, puma=puma)


# ---- ADL Barthel (§6.12): the ten items with the profile's maxima [unverified], or the total ----

ADL_ITEM_TEXTS = {
    "bowels": "Mengendalikan rangsang buang air besar (BAB)",
    "bladder": "Mengendalikan rangsang buang air kecil (BAK)",
    "grooming": "Membersihkan diri (mencuci wajah, menyisir rambut, mencukur, menggosok gigi)",
    "toilet": "Penggunaan jamban (masuk dan keluar, melepas dan memakai celana, membersihkan, menyiram)",
    "feeding": "Makan",
    "transfer": "Berpindah dari berbaring ke duduk",
    "mobility": "Berjalan di permukaan datar",
    "dressing": "Memakai baju",
    "stairs": "Naik turun tangga",
    "bathing": "Mandi",
}
ADL_ITEMS = tuple(
    whole_number(item, f"{ADL_ITEM_TEXTS[item]} (skor 0–{highest})", highest) for item, highest in ITEM_MAXIMA.items()
)
ADL_TOTAL = (whole_number("total", f"Skor total Indeks Barthel (0–{MAX_TOTAL})", MAX_TOTAL),)


def fill_adl_items(instruments: Instruments, answers: Answers) -> Instruments:
    return replace(instruments, adl=Adl(items={question.link_id: answers[question.link_id] for question in ADL_ITEMS}))


def fill_adl_total(instruments: Instruments, answers: Answers) -> Instruments:
    return replace(instruments, adl=Adl(total=answers["total"]))


# ---- SKILAS (§6.13; JUK Kuesioner SKILAS, Formulir 5): true = the domain is flagged (ticked on the form) ----

SKILAS_TEXTS = {
    "kognitif": "Penurunan kognitif: salah pada salah satu pertanyaan orientasi waktu dan tempat, atau tidak dapat "
    "mengulang ketiga kata",
    "mobilitas": "Keterbatasan mobilisasi: tidak dapat berdiri dari kursi 5 kali dalam 14 detik tanpa menggunakan "
    "tangan",
    "malnutrisi": "Malnutrisi: berat badan berkurang >3 kg dalam 3 bulan terakhir atau pakaian menjadi lebih "
    "longgar; hilang nafsu makan atau kesulitan makan; atau LiLA <21 cm",
    "penglihatan": "Gangguan penglihatan: ada masalah pada mata, atau jawaban hitung jari tidak benar 3 kali "
    "berturut-turut",
    "pendengaran": "Gangguan pendengaran: tidak mendengar bisikan saat tes bisik, atau tes bisik tidak dapat dilakukan",
    "depresi": "Gejala depresi: selama dua minggu terakhir terganggu oleh perasaan sedih, tertekan, atau putus asa, "
    "atau oleh sedikit minat atau kesenangan dalam melakukan sesuatu",
}
SKILAS = tuple(yes_no(domain, SKILAS_TEXTS[domain]) for domain in DOMAINS)


def fill_skilas(instruments: Instruments, answers: Answers) -> Instruments:
    return replace(instruments, skilas=frozenset(answered_yes(answers, SKILAS)))


# ---- KPSP (§6.14): the yes count of the ten questions of the child's age band ----

KPSP = (whole_number("yes-count", "Jumlah jawaban Ya pada 10 pertanyaan KPSP untuk kelompok umur anak", 10),)


def fill_kpsp(instruments: Instruments, answers: Answers) -> Instruments:
    return replace(instruments, kpsp_yes_count=answers["yes-count"])


# ---- TB symptoms (§6.15, §11): the adult form (Formulir skrining gejala TBC) or the child symptoms (JUK K2) ----

TB_ADULT_SYMPTOMS = (
    yes_no("batuk", "Batuk (semua bentuk batuk tanpa melihat durasi)"),
    yes_no("berat-badan-turun", "BB turun tanpa penyebab jelas/BB tidak naik/nafsu makan turun"),
    yes_no("demam", "Demam yang tidak diketahui penyebabnya"),
    yes_no("keringat-malam", "Berkeringat malam hari tanpa kegiatan"),
)
TB_CHILD_SYMPTOMS = (
    yes_no("batuk-2-minggu", "Batuk menetap 2 minggu atau lebih dan tidak membaik dengan pengobatan standar"),
    yes_no("demam-2-minggu", "Demam (umumnya tidak tinggi) >2 minggu dan/atau berulang tanpa sebab yang jelas"),
    yes_no(
        "berat-badan-turun",
        "Berat badan turun atau tidak naik dalam 2 bulan sebelumnya, atau gagal tumbuh meskipun sudah diberikan "
        "upaya perbaikan gizi",
    ),
    yes_no("lesu", "Badan lesu, anak kurang aktif bermain"),
    yes_no(
        "tanda-ekstraparu",
        "Gejala TBC ekstraparu: pembesaran kelenjar limfe, kejang dan penurunan kesadaran, atau lumpuh atau "
        "kesulitan berjalan",
    ),
)
TB_CONTACTS = (
    yes_no("household-contact", "Kontak serumah: tinggal serumah dengan pasien TBC"),
    yes_no(
        "close-contact",
        "Kontak erat: tidak serumah, tetapi sering bertemu dalam waktu cukup lama dengan pasien TBC terkonfirmasi "
        "bakteriologis, dalam 3 bulan terakhir",
    ),
)


def tb_fill(symptoms: tuple[Question, ...]) -> Callable[[Instruments, Answers], Instruments]:
    def fill(instruments: Instruments, answers: Answers) -> Instruments:
        tb = TbSymptoms(answered_yes(answers, symptoms), answers["household-contact"], answers["close-contact"])
        return replace(instruments, tb_symptoms=tb)

    return fill


# ---- Vision and hearing (§6.16, §11) ----

# The engine's Snellen fraction (ilp/classify/vision_hearing.py) without its group names, so any client can use it.
SNELLEN_FRACTION = r"[631]/[1-9]\d{0,3}"
SNELLEN_FORMAT = "6/…, 3/… atau 1/… dalam meter, mis. 6/12, 3/60, 1/60"
VISUS = tuple(
    Question(
        side, f"Visus mata {eye} (pecahan Snellen)", "string", pattern=SNELLEN_FRACTION, entry_format=SNELLEN_FORMAT
    )
    for side, eye in (("right", "kanan"), ("left", "kiri"))
)
FINGER_COUNT = (whole_number("finger-count-wrong", "Jumlah jawaban salah pada 5 kali tes hitung jari", 5),)
WHISPER = (whole_number("words-heard", "Jumlah kata yang terdengar pada tes bisik, dari 5 kata", 5),)


def fill_visus(instruments: Instruments, answers: Answers) -> Instruments:
    return replace(instruments, visus=Visus(right=answers["right"], left=answers["left"]))


def fill_finger_count(instruments: Instruments, answers: Answers) -> Instruments:
    return replace(instruments, visus=Visus(finger_count_wrong=answers["finger-count-wrong"]))


def fill_whisper(instruments: Instruments, answers: Answers) -> Instruments:
    return replace(instruments, whisper_words_heard=answers["words-heard"])


FORMS = (
    Form(
        "srq-20",
        "SRQ20",
        "SRQ-20: Self-Reporting Questionnaire",
        "Mental-health screening from 15 y (profile §6.10): problems of the last 30 days, true = Ya. Item 17 "
        "asks about thoughts of ending one's life.",
        SRQ20,
        fill_srq20,
    ),
    Form(
        "puma",
        "PUMA",
        "Kuesioner PUMA (risiko PPOK)",
        "COPD risk from 40 y (profile §6.11). Sex and age, which also score, come from the Patient.",
        PUMA,
        fill_puma,
    ),
    Form(
        "adl-barthel",
        "ADLBarthel",
        "ADL: Indeks Barthel, sepuluh butir",
        "Activities of daily living (profile §6.12), each of the ten Barthel items scored; the maxima are the "
        "profile's [unverified]. For the total alone, use adl-barthel-total.",
        ADL_ITEMS,
        fill_adl_items,
    ),
    Form(
        "adl-barthel-total",
        "ADLBarthelTotal",
        "ADL: Indeks Barthel, skor total",
        "Activities of daily living (profile §6.12) as the Barthel total 0–20. For the ten items, use adl-barthel.",
        ADL_TOTAL,
        fill_adl_total,
    ),
    Form(
        "skilas",
        "SKILAS",
        "SKILAS: Skrining Lansia Sederhana",
        "Older-person screening from 60 y (profile §6.13): one question per domain, true = the domain is flagged.",
        SKILAS,
        fill_skilas,
    ),
    Form(
        "kpsp",
        "KPSP",
        "KPSP: Kuesioner Pra Skrining Perkembangan",
        "Development screening at 3–72 months (profile §6.14): the yes count of the ten questions of the child's "
        "age band, which the engine picks from the child's age.",
        KPSP,
        fill_kpsp,
    ),
    Form(
        "tb-gejala-dewasa",
        "TBGejalaDewasa",
        "Skrining gejala TBC, dewasa (≥15 tahun)",
        "TB symptom screening from 15 y (profile §6.15, §11), true = Ya, and contact with a TB patient. For "
        "children under 15, use tb-gejala-anak.",
        TB_ADULT_SYMPTOMS + TB_CONTACTS,
        tb_fill(TB_ADULT_SYMPTOMS),
    ),
    Form(
        "tb-gejala-anak",
        "TBGejalaAnak",
        "Skrining gejala TBC, anak (<15 tahun)",
        "TB symptom screening under 15 y (profile §6.15, §11), true = Ya, and contact with a TB patient. From 15 y, "
        "use tb-gejala-dewasa.",
        TB_CHILD_SYMPTOMS + TB_CONTACTS,
        tb_fill(TB_CHILD_SYMPTOMS),
    ),
    Form(
        "visus",
        "Visus",
        "Visus (Snellen)",
        "Visual acuity of each eye as a Snellen fraction (profile §6.16, §11); the worse eye classifies. For "
        "finger counting, use visus-hitung-jari.",
        VISUS,
        fill_visus,
    ),
    Form(
        "visus-hitung-jari",
        "VisusHitungJari",
        "Visus: tes hitung jari",
        "Finger counting, wrong answers of 5 (profile §6.16, §11). For Snellen fractions, use visus.",
        FINGER_COUNT,
        fill_finger_count,
    ),
    Form(
        "tes-bisik",
        "TesBisik",
        "Tes bisik",
        "Whisper test: words heard of 5 (profile §6.16, §11).",
        WHISPER,
        fill_whisper,
    ),
)

QUESTIONNAIRE = providers.register_type(
    fixed_resources_type(
        "Questionnaire",
        "The ILP screening forms the rules engine reads (read-only); answer them with QuestionnaireResponses",
        (
            SearchParameter("url", SearchType.URI, "The canonical URL, matched exactly", lambda r: [r["url"]]),
            SearchParameter("name", SearchType.STRING, "Computer-friendly name (SRQ20, PUMA …)", strings("name")),
            SearchParameter("_id", SearchType.TOKEN, "Logical id (srq-20, puma …)", codes("id")),
            SearchParameter("status", SearchType.TOKEN, "active (every form served is)", codes("status")),
        ),
        lambda canonical_base: [form.to_fhir(canonical_base) for form in FORMS],
    )
)
