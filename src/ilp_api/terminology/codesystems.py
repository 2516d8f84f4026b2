"""Definitions of the project's CodeSystems, served as the read-only type CodeSystem (read and search by url,
name and _id). Their codes are public API: change them only additively."""

from dataclasses import dataclass
from typing import Any

from ilp_api import __version__
from ilp_api.fhir.in_memory import fixed_resources_type
from ilp_api.fhir.providers import providers
from ilp_api.fhir.registry import SearchParameter, SearchType, codes, strings
from ilp_api.resources.patient import DATA_QUALITY_DISPLAY
from ilp_api.resources.practitioner import PERAN_CODES
from ilp_api.resources.vaccines import DOSE_CODE_SYSTEM, DOSE_DISPLAY
from ilp_api.terminology import screening_codes


@dataclass(frozen=True)
class CodeSystemDefinition:
    id: str
    title: str
    description: str
    concepts: tuple[tuple[str, str], ...]

    def to_fhir(self, canonical_base: str) -> dict[str, Any]:
        return {
            "resourceType": "CodeSystem",
            "id": self.id,
            "url": f"{canonical_base}/CodeSystem/{self.id}",
            "version": __version__,
            "name": "".join(part.capitalize() for part in self.id.split("-")),
            "title": self.title,
            "status": "active",
            "experimental": False,
            "publisher": "ILP API",
            "description": self.description,
            "caseSensitive": True,
            "content": "complete",
            "count": len(self.concepts),
            "concept": [{"code": code, "display": display} for code, display in self.concepts],
        }


CODE_SYSTEMS = (
    CodeSystemDefinition(
        "jenis-fasilitas",
        "Jenis fasilitas ILP",
        "Facility types of the ILP network (profile §1).",
        (
            ("dinkes", "Dinas kesehatan kabupaten/kota"),
            ("puskesmas", "Puskesmas"),
            ("pustu", "Puskesmas pembantu"),
            ("posyandu", "Posyandu"),
            ("fkrtl", "Fasilitas kesehatan rujukan tingkat lanjut (rumah sakit)"),
            ("penjamin", "Penjamin pembiayaan kesehatan (BPJS Kesehatan): the payor of a Coverage, not a facility"),
        ),
    ),
    CodeSystemDefinition(
        "data-quality",
        "Data-quality flags",
        "Warnings kept on a record instead of rejecting it (profile §1, NIK checks V6–V7); searchable with _tag.",
        tuple(DATA_QUALITY_DISPLAY.items()),
    ),
    CodeSystemDefinition(
        "peran",
        "Peran tenaga ILP",
        "Roles of kader and nakes in the ILP network (PractitionerRole.code).",
        tuple((code, code.replace("-", " ").capitalize()) for code in PERAN_CODES),
    ),
    CodeSystemDefinition(
        DOSE_CODE_SYSTEM,
        "Dosis imunisasi rutin",
        "Doses of the national immunisation schedule (profile §4.4); a completed Immunization's vaccineCode carries "
        "one, and the schedule counts it as given.",
        tuple(DOSE_DISPLAY.items()),
    ),
    CodeSystemDefinition(
        "ilp-error",
        "ILP API error codes",
        "Codes in OperationOutcome.issue.details naming which profile rule a request broke.",
        (
            ("nik-tidak-valid", "NIK fails a structural check (V1–V5)"),
            ("kk-tidak-valid", "KK number is not 16 digits"),
            ("bpjs-tidak-valid", "BPJS card number is not 13 digits"),
            ("wilayah-tidak-valid", "Wilayah, RT or RW code is malformed or contradicts itself"),
            ("wilayah-tidak-dikenal", "Wilayah code is not in the imported Kemendagri list"),
            ("wilayah-bertentangan-dengan-induk", "Wilayah lies outside the parent organization's wilayah"),
            ("jenis-fasilitas-tidak-valid", "Organization.type lacks one facility type"),
            ("hierarki-fasilitas-tidak-valid", "partOf breaks dinkes → puskesmas → pustu → posyandu"),
            ("peran-tidak-valid", "PractitionerRole.code lacks a known role"),
            ("tanggal-lahir-di-masa-depan", "Birth date after today"),
            ("identitas-sudah-terdaftar", "An active resource already holds this identifier"),
            ("batas-penolakan-identitas", "Too many identifiers registered outside the client's area, this hour"),
            ("nilai-di-luar-rentang", "Measurement outside its plausibility range (profile §5)"),
            ("diastolik-harus-kurang-dari-sistolik", "Diastolic pressure not below systolic"),
            ("transisi-status-tidak-valid", "Task status move outside FHIR's Task state machine"),
            ("bukan-pihak-task", "Task changed by neither its owner's nor its requester's side"),
            ("elemen-task-tetap", "Task element other than its workflow elements changed once requested"),
            ("provenance-diperlukan", "Task moved on a referral hospital's behalf without a Provenance saying so"),
        ),
    ),
    CodeSystemDefinition(
        "klaster",
        "Klaster ILP",
        "The klaster of a visit (Encounter.type) and of an EpisodeOfCare (type), and a pregnancy's own episode "
        "(profile §3).",
        screening_codes.KLASTER,
    ),
    CodeSystemDefinition(
        "ilp-observation",
        "Observasi ILP",
        "What an Observation derived from a visit classifies (Observation.code; profile §6), the MUAC measurement "
        "(profile §5) and a classification's flags (component code ``flag``).",
        screening_codes.ILP_OBSERVATION,
    ),
    CodeSystemDefinition(
        "ilp-klasifikasi",
        "Klasifikasi ILP",
        "The profile's category codes and flags of each classification (profile §6, §11), beside the HL7 v3 "
        "interpretation; also the reasons of referrals and follow-ups (ServiceRequest.reasonCode, Task.reasonCode).",
        screening_codes.ILP_KLASIFIKASI,
    ),
    CodeSystemDefinition(
        "tindak-lanjut",
        "Tindak lanjut ILP",
        "Follow-ups an evaluated visit asks for (Task.code; profile §11).",
        screening_codes.TINDAK_LANJUT,
    ),
    CodeSystemDefinition(
        "status-rujukan",
        "Status rujukan",
        "Where an external referral stands (Task.businessStatus; profile §7, Rujuk balik).",
        screening_codes.STATUS_RUJUKAN,
    ),
    CodeSystemDefinition(
        "ilp-tindakan",
        "Tindakan ILP",
        "What a ServiceRequest derived from a visit asks for (ServiceRequest.code; profile §7).",
        screening_codes.ILP_TINDAKAN,
    ),
    CodeSystemDefinition(
        "paket-skrining",
        "Paket skrining ILP",
        "The items of the life-cycle screening packages (profile §4.1): the reasons of a jadwalkan follow-up "
        "(Task.reasonCode), an item due that the site cannot provide. A dose due is named in imunisasi.",
        screening_codes.PAKET_SKRINING,
    ),
    CodeSystemDefinition(
        "kategori-kondisi",
        "Kategori kondisi ILP",
        "What kind of Condition the server keeps (Condition.category, beside R4's problem-list-item): a screening "
        "finding, never a diagnosis (screening/findings.py).",
        screening_codes.KATEGORI_KONDISI,
    ),
)

CODE_SYSTEM = providers.register_type(
    fixed_resources_type(
        "CodeSystem",
        "The project's own CodeSystems (read-only)",
        (
            SearchParameter("url", SearchType.URI, "The canonical URL, matched exactly", lambda r: [r["url"]]),
            SearchParameter("name", SearchType.STRING, "Computer-friendly name (JenisFasilitas …)", strings("name")),
            SearchParameter("_id", SearchType.TOKEN, "Logical id (jenis-fasilitas …)", codes("id")),
        ),
        lambda canonical_base: [system.to_fhir(canonical_base) for system in CODE_SYSTEMS],
    )
)
