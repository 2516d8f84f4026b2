"""Kemendagri wilayah reference list: optional data an operator imports (``ilp wilayah import``)."""
