from gis.network import service
from tests.api.test_network_layers import *  # noqa
from tests.api import test_network_layers as t

_orig = service._load

def _no_lock(db, layer, feature_id, *, for_update=False):
    row = _orig(db, layer, feature_id, for_update=False)
    import time; time.sleep(0.3)  # widen the window (scratch only)
    return row

def test_mutant(client, editor, owner_engine, monkeypatch):
    monkeypatch.setattr(service, "_load", _no_lock)
    t.test_two_concurrent_patches_on_the_same_version_one_wins_one_gets_412(client, editor, owner_engine)
