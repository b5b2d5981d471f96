"""The SQL adapter: every table, migration and statement of the library, in one place."""
