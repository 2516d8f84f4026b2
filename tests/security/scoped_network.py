"""The organization network of the scoping tests, with a client (``system/*.cruds``) for every organization.

One kota with a dinkes and two puskesmas; puskesmas 1 has a pustu with a posyandu covering RW 001 and 002 of
its kelurahan; puskesmas 2 has its own pustu and posyandu. A second kota has its own dinkes. Four residents:
``dalam`` inside every member's subtree, ``tetangga`` inside the dinkes only, ``kota-lain`` outside everyone,
and ``pindahan``, living in the posyandu's RW 002 but managed by the other puskesmas.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from factories import KOTA, OTHER_KOTA, create, nik, organization_json, patient_json

KELURAHAN_1, KELURAHAN_2 = "3374011001", "3374021001"
# One branch of the hierarchy, top to bottom: the access matrix runs for each of them.
MEMBERS = ("dinkes", "puskesmas", "pustu", "posyandu")


@dataclass(frozen=True)
class Network:
    organizations: dict[str, str]
    patients: dict[str, dict[str, Any]]
    tokens: dict[str, str]

    def headers(self, organization: str) -> dict[str, str]:
        """The Authorization header of the client of ``organization`` (a key such as ``"pustu-2"``)."""
        return {"Authorization": f"Bearer {self.tokens[organization]}"}


def scoped_network(admin: TestClient, issue_token: Callable[[str | None, str], str]) -> Network:
    def organization(key: str, kind: str, wilayah: str, parent: str | None = None, rws: tuple[str, ...] = ()) -> None:
        parent_id = organizations[parent] if parent else None
        created = create(admin, organization_json(kind, name=key, wilayah=wilayah, part_of=parent_id, rws=rws))
        organizations[key] = created["id"]

    organizations: dict[str, str] = {}
    organization("dinkes", "dinkes", KOTA)
    organization("puskesmas", "puskesmas", "337401", "dinkes")
    organization("pustu", "pustu", KELURAHAN_1, "puskesmas")
    organization("posyandu", "posyandu", KELURAHAN_1, "pustu", rws=("001", "002"))
    organization("puskesmas-2", "puskesmas", "337402", "dinkes")
    organization("pustu-2", "pustu", KELURAHAN_2, "puskesmas-2")
    organization("posyandu-2", "posyandu", KELURAHAN_2, "pustu-2", rws=("001",))
    organization("dinkes-lain", "dinkes", OTHER_KOTA)

    def resident(key: str, serial: int, wilayah: str, rw: str, manager: str) -> None:
        resource = patient_json(
            nik(serial=serial), given=key, wilayah=wilayah, rw=rw, organization=organizations[manager]
        )
        patients[key] = create(admin, resource)

    patients: dict[str, dict[str, Any]] = {}
    resident("dalam", 1, KELURAHAN_1, "001", "posyandu")
    resident("tetangga", 2, KELURAHAN_2, "001", "posyandu-2")
    resident("kota-lain", 3, OTHER_KOTA + "011001", "001", "dinkes-lain")
    resident("pindahan", 4, KELURAHAN_1, "002", "puskesmas-2")
    tokens = {key: issue_token(organization_id, "system/*.cruds") for key, organization_id in organizations.items()}
    return Network(organizations, patients, tokens)
