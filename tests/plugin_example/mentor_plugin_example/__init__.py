"""Example plugin for Mentor Assistant; each component is one module, found through an entry point."""
