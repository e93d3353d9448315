"""Field work and offline sync (issue 9): tasks for every kind of field visit, checklists, findings,
inspection plans, quality control, meter reading, and the sync protocol of the mobile app."""
