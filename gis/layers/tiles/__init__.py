"""Vector tiles (MVT) of the published layers: specs as data (`layers.json`, `style.json`), the tile
SQL, the change log that invalidates cached tiles exactly where data changed, and the tile service."""
