"""Helpers shared by the tests and bench/: live server processes, media probes, moto S3, PostgreSQL."""
