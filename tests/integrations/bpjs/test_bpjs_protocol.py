"""The PCare protocol core against the pinned vectors: BPJS's own HMAC vector, the documented encryption vector
(bpjs-pcare.md §8), and emoji and Javanese-script vectors made by npm lz-string (vectors/README.md)."""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ilp_api.integrations.bpjs.protocol import (
    Credentials,
    UndecryptableResponse,
    authorization,
    compress,
    decompress,
    decrypt_response,
    encrypt_response,
    hmac_sha256_base64,
    parse_envelope,
    request_headers,
    response_key,
    signature,
)

NPM_VECTORS = json.loads((Path(__file__).parent / "vectors" / "lz_string_npm.json").read_text())
DOCUMENTED_RESPONSE = (
    "AKBY6edKG1vgtG3q4dHJdwqZC3S6vH+OnAsd6/zE6yldP6+5eABU8aR/IF2Kkfd+fkXFAxcQVUT9k9+uzWFU+Omh7ZHLoKPmHvWeROckTd6K6aG+"
    "Hb/CKdg4LeLi6g1lUzi79EX7p9z4ZIfAfB7eohtvP4mnaqHG9c7S4Ce32I4="
)
DOCUMENTED_COMP = (
    "N4Igdg9g0ghgTgFwK4gFwgAxYIwCYBs2AHAMy4AsA7JSADTgwC2MaIAKgEoCSABAIIcAclzogYAawQBLAGZoEcJAFN64pQj6TZrPlDZcAYiAC+QA"
)
DOCUMENTED_PLAIN = {"noKartu": "0001261832477", "nama": "TRI ARNI", "aktif": True, "ketAktif": "AKTIF"}


def test_the_official_hmac_vector() -> None:
    # "hasil generate dari server BPJS Kesehatan": message "aaa" under key "bbb".
    assert hmac_sha256_base64("bbb", "aaa") == "20BKS3PWnD3XU4JbSSZvVlGi2WWnDa8Sv9uHJ+wsELA="
    # The signature is that HMAC, keyed by the secret, of "consId&timestamp".
    assert signature("12", "bbb", "34") == hmac_sha256_base64("bbb", "12&34")


def test_the_documented_signature_and_authorization() -> None:
    assert signature("1234", "pwd", "433223232") == "eXMtvX2r7e7CLCIu3kpEpCrvciZgK8FuOhKv06NDAHk="
    assert (
        authorization("usernamePcare", "passwordPcare", "095") == "Basic dXNlcm5hbWVQY2FyZTpwYXNzd29yZFBjYXJlOjA5NQ=="
    )


def test_headers_use_one_timestamp_for_the_signature() -> None:
    credentials = Credentials("1234", "pwd", "the-user-key", "usernamePcare", "passwordPcare")
    headers = request_headers(credentials, "433223232")
    assert headers == {
        "X-cons-id": "1234",
        "X-timestamp": "433223232",
        "X-signature": "eXMtvX2r7e7CLCIu3kpEpCrvciZgK8FuOhKv06NDAHk=",
        "X-authorization": "Basic dXNlcm5hbWVQY2FyZTpwYXNzd29yZFBjYXJlOjA5NQ==",
        "user_key": "the-user-key",
    }


def test_the_documented_encryption_vector() -> None:
    assert response_key("1234", "pwd", "433223232").hex() == (
        "f75bf2014da65c8f1c39a47de848ba383d051f4e218fa70774fcd3fb216c5f9b"
    )
    assert decrypt_response("1234", "pwd", "433223232", DOCUMENTED_RESPONSE) == DOCUMENTED_PLAIN
    assert compress(json.dumps(DOCUMENTED_PLAIN, separators=(",", ":"))) == DOCUMENTED_COMP


def test_a_timestamp_one_second_off_fails_to_decrypt() -> None:
    with pytest.raises(UndecryptableResponse, match="does not decrypt"):
        decrypt_response("1234", "pwd", "433223233", DOCUMENTED_RESPONSE)


@pytest.mark.parametrize("vector", NPM_VECTORS["vectors"], ids=lambda v: v["name"])
def test_npm_lz_string_vectors_outside_the_bmp(vector: dict[str, str]) -> None:
    keys = (NPM_VECTORS["consId"], NPM_VECTORS["secret"], NPM_VECTORS["ts"])
    assert decompress(vector["comp"]) == vector["plain"]
    assert compress(vector["plain"]) == vector["comp"]  # byte for byte what JavaScript makes
    assert decrypt_response(*keys, vector["response"]) == json.loads(vector["plain"])
    assert encrypt_response(*keys, json.loads(vector["plain"])) == vector["response"]


@pytest.mark.parametrize("garbage", ["", "!!!", "N4Ig", "aGVsbG8gd29ybGQ="])
def test_garbage_does_not_decompress(garbage: str) -> None:
    assert decompress(garbage) is None
    with pytest.raises(UndecryptableResponse):
        decrypt_response("1234", "pwd", "433223232", garbage)


@settings(max_examples=60, deadline=None)
@given(
    value=st.recursive(st.text() | st.booleans() | st.integers(), lambda c: st.lists(c) | st.dictionaries(st.text(), c))
)
def test_encrypt_then_decrypt_round_trips_any_unicode(value: object) -> None:
    timestamp = "1765100000"
    assert decrypt_response("cons", "secret", timestamp, encrypt_response("cons", "secret", timestamp, value)) == value


@settings(max_examples=100, deadline=None)
@given(text=st.text())
def test_compress_round_trips_any_unicode(text: str) -> None:
    assert decompress(compress(text)) == (text or None)


def test_envelopes() -> None:
    assert parse_envelope(b'{"response": "abc", "metaData": {"message": "OK", "code": 200}}') is not None
    envelope = parse_envelope(b'{"response": [{"field": "noKartu"}], "metaData": {"message": "X", "code": "412"}}')
    assert envelope is not None
    assert (envelope.code, envelope.encrypted) == (412, False)
    assert parse_envelope(b"<html><body>Runtime Error</body></html>") is None
    assert parse_envelope(b'["not", "an", "envelope"]') is None
    assert parse_envelope(b'{"metaData": {"code": 200}}') is None
