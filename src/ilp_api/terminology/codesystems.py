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
        ),
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
