"""Delivery of the outbox: the relay that publishes committed events in order, the server-sent
events stream of the web console and signed webhooks for other systems."""
