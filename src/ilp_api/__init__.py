"""ILP API: the open integration backend for Integrasi Layanan Primer."""

__version__ = "0.1.0"
