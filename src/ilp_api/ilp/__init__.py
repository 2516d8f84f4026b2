"""The ILP rules engine: pure Python, no I/O, no framework, no clock (the visit date is an input).

Every result names the rule that produced it and the source of that rule (see ``ilp-profile`` §12 keys).
Nothing here imports from the rest of ``ilp_api``; everything else may import from here.
"""

# Bumped whenever a rule, threshold or code changes, so stored results can say which rules made them.
RULE_SET_VERSION = "ilp-profile-1.0/2026.11"
