"""gunicorn's settings, read from the working directory by `gunicorn portal.wsgi`.

The logger class masks share tokens in the access and error logs (see portal/logs.py).
"""
logger_class = "portal.logs.GunicornLogger"
