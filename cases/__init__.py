"""Connection requests, construction permits and encroachment cases (业扩报装): their workflow,
deadlines and decision documents."""
