"""Spatial domain: the network and customers, coordinate systems, geometry validation, imports."""
