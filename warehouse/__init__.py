"""The DuckDB schema, the record types, and the only code that reads or writes the database."""
