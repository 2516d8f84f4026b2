"""Integrations with systems outside ILP API (SATUSEHAT, BPJS, webhooks). The core never imports them: they plug
in through write hooks (fhir/hooks.py) and the outbox, and the shell (app.py, cli.py, wiring.py) wires them."""
