"""One module per instrument of §6; each returns a ``Classification`` and knows nothing of the others."""
