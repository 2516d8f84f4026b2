"""A local PCare: signs checked, answers encrypted the documented way, member fixtures, faults on demand."""
