"""Users, their roles and their work qualifications."""
