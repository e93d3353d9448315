"""The developer stack behind `./gw`: local PostgreSQL, Redis and SeaweedFS for one checkout.

`./gw` (bash) only installs the system packages and the virtualenv, then runs `python -m devstack`.
Everything else lives here, one concern per module: where state lives (`layout`), the ports
(`ports`), this installation's secrets (`secrets`), the roles and databases (`provisioning`), each
service (`postgres`, `redis`, `seaweed`), the `GW_*` environment (`environment`), the application's
own processes (`app`) and the commands (`commands`).
"""
