"""Storage: database engines, tables, migrations and every query (SQLModel, Alembic)."""
