"""The composition of GridWarden: which domains are installed (`domains.py`), and the entry points
that read that list: the Celery worker (`worker.py`) and the command line (`cli.py`). The API's app
factory (`api.app`) and Alembic's environment read it too."""
