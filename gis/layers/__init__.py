"""Map layers: the one catalogue of published layers (`catalogue`), what a layer is (`spec`) and the
generic read and write service every editable layer goes through (`service`)."""
