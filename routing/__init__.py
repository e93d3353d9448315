"""Route planning for inspection and meter-reading crews (issue 12): `problem` (what the solver
sees), `travel/` (travel times: pgRouting over imported roads, or an estimate), `solver/` (the
engine behind one interface, schedules with breaks, an independent feasibility check, reasons for
what was left out, re-planning), `rounds` (meter-reading rounds), `service` (plans, publication)."""
