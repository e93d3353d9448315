import json
from tests.gis.screening.conftest import *

def test_smoke(desk):
    for origin in (EQUATOR, ARCTIC, FAR_NORTH):
      for bearing in (NORTH, EAST):
        line = desk.line(geodesic_line(origin, bearing), conductor_spread_m=3.0)
        for d in (6.4, 6.6):
            r = desk.screen(point(beside(origin, bearing, d)), "connection")
            print(origin, bearing, d, r["verdict"], [ (f["measured_m"], f["required_m"]) for f in r["findings"]])
        zs = desk.line_zones(line)
        print([z["properties"] for z in zs])
        print(origin, bearing, [contains(zs[0], beside(origin, bearing, d, side=s)) for d in (6.4, 6.45, 6.55, 6.6) for s in (1,-1)])
        desk.delete("lines", line)
    print(json.dumps(r, indent=1)[:3000])
