"""Customers (supply points): where they are, which transformer feeds them, how to reach them."""
