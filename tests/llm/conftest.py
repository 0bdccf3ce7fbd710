"""The model backend tests use the fault server fixtures registered in the root conftest."""
