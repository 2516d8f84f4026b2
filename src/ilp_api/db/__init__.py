"""Database engine, sessions and the tables every domain shares."""
