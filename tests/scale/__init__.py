"""Tests of the scale set-up (issue 14): several processes and servers, started by the tests themselves."""
