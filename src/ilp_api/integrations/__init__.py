"""Integrations with systems outside ILP API: each plugs in through write hooks and the outbox (``outbox/``);
nothing in the core imports them."""
