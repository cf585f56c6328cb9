"""gunicorn's settings, read from the working directory by `gunicorn portal.wsgi`.

The logger class masks share tokens in the access and error logs (see portal/access_log.py).
"""
logger_class = "portal.access_log.GunicornLogger"
