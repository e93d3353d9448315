"""The solver side of route planning: engines behind one interface (`engine`), the search they run
(`search`), schedules with lunch breaks (`schedule`), an independent feasibility check
(`feasibility`), why jobs were left out (`explain`), the whole of one plan (`planner`) and
re-planning during the day (`replan`)."""
