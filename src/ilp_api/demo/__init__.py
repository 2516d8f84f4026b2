"""A realistic demo network (one kota's dinkes, puskesmas, pustu, posyandu, nakes, kader) and its residents."""
