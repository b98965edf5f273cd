"""Mentor Assistant: grounded coaching for people who mentor or manage others."""

__version__ = "0.1.0"
