"""The distribution network: substations, transformers, lines, poles, switches and their topology."""
