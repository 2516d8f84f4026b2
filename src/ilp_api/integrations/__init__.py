"""Outside systems ILP API talks to (BPJS PCare, SATUSEHAT): each in a package of its own, with its simulator."""
