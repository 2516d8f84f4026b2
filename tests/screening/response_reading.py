"""Readers for the evaluate response, so tests state what they expect and not how to dig for it."""

from collections.abc import Callable
from typing import Any

Evaluate = Callable[..., dict[str, Any]]


def classification(body: dict[str, Any], key: str) -> dict[str, Any]:
    matches = [result for result in body["classifications"] if result["key"] == key]
    assert len(matches) == 1, f"{key}: {body['classifications']}"
    return matches[0]


def klaster_roles(body: dict[str, Any]) -> set[tuple[int, str]]:
    return {(entry["klaster"], entry["role"]) for entry in body["klaster"]}


def referrals(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(referral["target"], referral["urgency"]) for referral in body["referrals"]]


def follow_ups(body: dict[str, Any]) -> dict[str, int]:
    return {follow_up["code"]: follow_up["dueInDays"] for follow_up in body["followUps"]}


def due_items(body: dict[str, Any]) -> dict[str, str]:
    return {due["item"]: due["reason"] for due in body["due"]}
