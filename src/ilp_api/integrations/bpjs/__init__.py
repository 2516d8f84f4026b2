"""BPJS Kesehatan PCare: membership (peserta) eligibility, signed and decrypted as ../shared/reference/bpjs-pcare.md
describes; a local simulator of PCare for development and tests."""
