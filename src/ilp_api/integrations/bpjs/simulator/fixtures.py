"""The simulator's members and its configurable replies for what bpjs-pcare.md marks unverified.

Members cover the cases a puskesmas meets: active and registered here, inactive, in arrears, registered with another
FKTP, and names outside ASCII (Latin accents, aksara Jawa). Dates are PCare's ``dd-MM-yyyy``.
"""

from typing import Any

from pydantic import BaseModel, Field

from ilp_api.integrations.bpjs.protocol import Credentials

# The puskesmas the simulator takes its caller to be (set ILP_BPJS_PPK_CODE to it), and another FKTP.
SIMULATED_PPK = "0114U163"
OTHER_PPK = "0114U201"

# What `ilp bpjs simulator` and the development mount accept when ILP_BPJS_* are unset.
SIMULATOR_CREDENTIALS = Credentials(
    cons_id="16800", secret="simulator-secret", user_key="simulator-user-key", username="pkm-sim", password="sim"
)


def _member(
    no_kartu: str,
    nama: str,
    nik: str,
    *,
    aktif: bool = True,
    ket_aktif: str = "AKTIF",
    provider: tuple[str, str] = (SIMULATED_PPK, "PUSKESMAS SIMULASI"),
    tunggakan: int = 0,
    sex: str = "P",
    tgl_lahir: str = "12-03-1990",
    tgl_akhir_berlaku: str = "31-12-2099",
    kelas: tuple[str, str] = ("3", "KELAS III"),
) -> dict[str, Any]:
    return {
        "noKartu": no_kartu,
        "nama": nama,
        "hubunganKeluarga": "Istri",
        "sex": sex,
        "tglLahir": tgl_lahir,
        "tglMulaiAktif": "01-01-2020",
        "tglAkhirBerlaku": tgl_akhir_berlaku,
        "kdProviderPst": {"kdProvider": provider[0], "nmProvider": provider[1]},
        "kdProviderGigi": None,
        "jnsKelas": {"kode": kelas[0], "nama": kelas[1]},
        "jnsPeserta": {"kode": "22", "nama": "PBI (APBD)"},
        "golDarah": "0",
        "noHP": "081234567890",
        "noKTP": nik,
        "pstProl": "",
        "pstPrb": "",
        "aktif": aktif,
        "ketAktif": ket_aktif,
        "asuransi": {"kdAsuransi": None, "nmAsuransi": None, "noAsuransi": None, "cob": False},
        "tunggakan": tunggakan,
    }


ACTIVE = "0001000000001"
INACTIVE = "0001000000002"
ARREARS = "0001000000003"
REGISTERED_ELSEWHERE = "0001000000004"
NON_ASCII = "0001000000005"
UNKNOWN = "0009999999999"


def default_members() -> dict[str, dict[str, Any]]:
    members = [
        _member(ACTIVE, "SITI AMINAH", "3211015203900001"),
        _member(
            INACTIVE,
            "BUDI SANTOSO",
            "3211011506850002",
            aktif=False,
            ket_aktif="TIDAK AKTIF",
            sex="L",
            tgl_lahir="15-06-1985",
            tgl_akhir_berlaku="31-12-2023",
        ),
        _member(
            ARREARS,
            "DEWI LESTARI",
            "3211014408920003",
            aktif=False,
            ket_aktif="TIDAK AKTIF KARENA MENUNGGAK",
            tunggakan=1_260_000,
            tgl_lahir="04-08-1992",
            kelas=("1", "KELAS I"),
        ),
        _member(
            REGISTERED_ELSEWHERE,
            "AGUS SETIAWAN",
            "3211010101800004",
            provider=(OTHER_PPK, "KLINIK PRATAMA LAIN"),
            sex="L",
        ),
        _member(NON_ASCII, "SRI ÑOMAN ꦱꦿꦶ ꦤꦺꦴꦩꦤ꧀", "3211016502000005", tgl_lahir="25-02-2000"),
    ]
    return {member["noKartu"]: member for member in members}


class Reply(BaseModel):
    """A PCare answer without a member: its HTTP status and metaData. For the unverified cases, configurable."""

    http_status: int = Field(ge=100, le=599)
    code: int
    message: str


# bpjs-pcare.md §4 and §13: what PCare answers for these is not published; these are guesses, and tests (or a
# developer who learns the real ones) replace them over the control API.
UNVERIFIED_REPLIES: dict[str, Reply] = {
    "not-found": Reply(http_status=200, code=204, message="Peserta tidak ditemukan"),
    "bad-signature": Reply(http_status=401, code=401, message="Unauthorized! Invalid signature"),
    "stale-timestamp": Reply(http_status=401, code=401, message="Unauthorized! Request expired (X-timestamp)"),
    "bad-login": Reply(http_status=401, code=401, message="Unauthorized! Invalid username or password"),
    "bad-user-key": Reply(http_status=403, code=403, message="Forbidden: invalid user_key"),
}
# Documented (§4): a consumer not registered for the service.
NOT_REGISTERED_FOR_SERVICE = Reply(
    http_status=200, code=404, message="Unauthorized! You are not registered for this service!"
)
# Documented (§4): a validation failure, a list of fields in clear.
PRECONDITION_FAILED = Reply(http_status=412, code=412, message="PRECONDITION_FAILED")
PRECONDITION_FAILED_FIELD = {"field": "noKartu", "message": "Belum melakukan pendaftaran pada poli tersebut."}
