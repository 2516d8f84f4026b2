"""PCare's member (peserta) as FHIR, pure: the resident's Coverage, the CoverageEligibilityRequest asked and the
CoverageEligibilityResponse answered. PCare dates are ``dd-MM-yyyy``; FHIR's ``yyyy-MM-dd``.

What R4 has no element for goes into the project's extensions on ``CoverageEligibilityResponse.insurance``:
``bpjs-fktp-terdaftar`` (valueCoding: the FKTP the member is registered with, its PPK code under
``{base}/sid/bpjs-ppk``), ``bpjs-fktp-ini`` (valueBoolean: whether that is this puskesmas; absent when
ILP_BPJS_PPK_CODE is unset) and ``bpjs-tunggakan`` (valueInteger: arrears in rupiah).
"""

from datetime import datetime
from typing import Any

from ilp_api.fhir.registry import Json
from ilp_api.resources.indonesia import NIK, bpjs_system

COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
JKN = {"coding": [{"system": ACT_CODE, "code": "PUBLICPOL", "display": "public healthcare"}], "text": "JKN"}
PAYOR_ID = "bpjs-kesehatan"
# meta.source of a Patient registered from BPJS's answer: a URN naming the source, not a place to fetch from.
BPJS_SOURCE = "urn:bpjs-kesehatan:pcare:peserta"
SEX = {"L": "male", "P": "female"}
PAYOR = {"reference": f"Organization/{PAYOR_ID}", "display": "BPJS Kesehatan"}


def extension_url(canonical_base: str, name: str) -> str:
    return f"{canonical_base}/StructureDefinition/{name}"


def ppk_system(canonical_base: str) -> str:
    return f"{canonical_base}/sid/bpjs-ppk"


def payor_organization(facility_type_system: str) -> Json:
    """The BPJS Kesehatan Organization every BPJS Coverage names as payor."""
    return {
        "resourceType": "Organization",
        "id": PAYOR_ID,
        "active": True,
        "type": [{"coding": [{"system": facility_type_system, "code": "penjamin"}]}],
        "name": "BPJS Kesehatan",
        "alias": ["Badan Penyelenggara Jaminan Sosial Kesehatan"],
    }


def member_number(patient: Json, canonical_base: str) -> tuple[str, str] | None:
    """How to ask BPJS about the resident: ``("noka", card number)``, else ``("nik", NIK)``; None without either."""
    for jenis, system in (("noka", bpjs_system(canonical_base)), ("nik", NIK)):
        for identifier in patient.get("identifier", []):
            if identifier.get("system") == system and identifier.get("value"):
                return jenis, identifier["value"]
    return None


def fhir_date(pcare_date: Any) -> str | None:
    """``31-12-2025`` → ``2025-12-31``; None for anything else."""
    try:
        return datetime.strptime(str(pcare_date), "%d-%m-%Y").date().isoformat()
    except ValueError:
        return None


def validity(peserta: Json) -> Json | None:
    period = {
        key: value
        for key, value in (
            ("start", fhir_date(peserta.get("tglMulaiAktif"))),
            ("end", fhir_date(peserta.get("tglAkhirBerlaku"))),
        )
        if value
    }
    return period or None


def _coded(value: Any) -> tuple[str, str] | None:
    """PCare's ``{"kode": …, "nama": …}``, when it has a code."""
    if isinstance(value, dict) and value.get("kode"):
        return str(value["kode"]), str(value.get("nama") or value["kode"])
    return None


def coverage(peserta: Json, patient_id: str, canonical_base: str, coverage_id: str | None) -> Json:
    no_kartu = str(peserta.get("noKartu", ""))
    classes = [
        {"type": {"coding": [{"system": COVERAGE_CLASS, "code": kind}]}, "value": coded[0], "name": coded[1]}
        for kind, coded in (("class", _coded(peserta.get("jnsKelas"))), ("plan", _coded(peserta.get("jnsPeserta"))))
        if coded
    ]
    resource: Json = {
        "resourceType": "Coverage",
        **({"id": coverage_id} if coverage_id else {}),
        "identifier": [{"system": bpjs_system(canonical_base), "value": no_kartu}],
        "status": "active" if peserta.get("aktif") is True else "cancelled",
        "type": JKN,
        "subscriberId": no_kartu,
        "beneficiary": {"reference": f"Patient/{patient_id}"},
        "payor": [PAYOR],
        **({"class": classes} if classes else {}),
        **({"period": period} if (period := validity(peserta)) else {}),
    }
    if peserta.get("hubunganKeluarga"):
        resource["relationship"] = {"text": str(peserta["hubunganKeluarga"])}
    return resource


def eligibility_request(patient_id: str, coverage_id: str, created: str, provider: str | None) -> Json:
    return {
        "resourceType": "CoverageEligibilityRequest",
        "status": "active",
        "purpose": ["validation"],
        "patient": {"reference": f"Patient/{patient_id}"},
        "created": created,
        **({"provider": {"reference": f"Organization/{provider}"}} if provider else {}),
        "insurer": PAYOR,
        "insurance": [{"focal": True, "coverage": {"reference": f"Coverage/{coverage_id}"}}],
    }


def eligibility_response(
    peserta: Json,
    *,
    patient_id: str,
    request_id: str,
    coverage_id: str,
    created: str,
    provider: str | None,
    ppk_code: str | None,
    canonical_base: str,
) -> Json:
    aktif = peserta.get("aktif") is True
    insurance: Json = {"coverage": {"reference": f"Coverage/{coverage_id}"}, "inforce": aktif}
    if period := validity(peserta):
        insurance["benefitPeriod"] = period
    if kelas := _coded(peserta.get("jnsKelas")):
        insurance["item"] = [
            {"category": {"coding": [{"system": COVERAGE_CLASS, "code": "class"}], "text": kelas[1]}, "name": kelas[1]}
        ]
    extensions = _fktp_extensions(peserta.get("kdProviderPst"), ppk_code, canonical_base)
    if isinstance(peserta.get("tunggakan"), int):
        extensions.append(
            {"url": extension_url(canonical_base, "bpjs-tunggakan"), "valueInteger": peserta["tunggakan"]}
        )
    if extensions:
        insurance["extension"] = extensions
    return {
        "resourceType": "CoverageEligibilityResponse",
        "status": "active",
        "purpose": ["validation"],
        "patient": {"reference": f"Patient/{patient_id}"},
        "created": created,
        **({"requestor": {"reference": f"Organization/{provider}"}} if provider else {}),
        "request": {"reference": f"CoverageEligibilityRequest/{request_id}"},
        "outcome": "complete",
        "disposition": str(peserta.get("ketAktif") or ("AKTIF" if aktif else "TIDAK AKTIF")),
        "insurer": PAYOR,
        "insurance": [insurance],
    }


def _fktp_extensions(provider: Any, ppk_code: str | None, canonical_base: str) -> list[Json]:
    if not isinstance(provider, dict) or not provider.get("kdProvider"):
        return []
    code = str(provider["kdProvider"])
    coding = {"system": ppk_system(canonical_base), "code": code}
    if provider.get("nmProvider"):
        coding["display"] = str(provider["nmProvider"])
    extensions: list[Json] = [{"url": extension_url(canonical_base, "bpjs-fktp-terdaftar"), "valueCoding": coding}]
    if ppk_code:
        extensions.append({"url": extension_url(canonical_base, "bpjs-fktp-ini"), "valueBoolean": code == ppk_code})
    return extensions


def registered_patient(peserta: Json, canonical_base: str, organization: str | None) -> Json:
    """A Patient from BPJS's member: name, birth date, sex, NIK, card number, phone; ``meta.source`` BPJS."""
    identifiers = [
        {"system": system, "value": str(value)}
        for system, value in ((NIK, peserta.get("noKTP")), (bpjs_system(canonical_base), peserta.get("noKartu")))
        if value
    ]
    patient: Json = {
        "resourceType": "Patient",
        "meta": {"source": BPJS_SOURCE},
        "identifier": identifiers,
        "active": True,
        "name": [{"use": "official", "text": str(peserta.get("nama", "")).strip()}],
    }
    if gender := SEX.get(str(peserta.get("sex"))):
        patient["gender"] = gender
    if birth_date := fhir_date(peserta.get("tglLahir")):
        patient["birthDate"] = birth_date
    if peserta.get("noHP"):
        patient["telecom"] = [{"system": "phone", "value": str(peserta["noHP"]), "use": "mobile"}]
    if organization:
        patient["managingOrganization"] = {"reference": f"Organization/{organization}"}
    return patient
