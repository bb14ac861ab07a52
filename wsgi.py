"""The WSGI entry point: ``gunicorn -c gunicorn.conf.py wsgi:app`` or ``flask --app wsgi run``."""

from bot import create_app

app = create_app()
