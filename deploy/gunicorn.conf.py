"""gunicorn settings for Pillars (``gunicorn -c deploy/gunicorn.conf.py wsgi:app``).

Read from the environment (the systemd unit loads /etc/pillars.env): ``PILLARS_BIND`` (default
``127.0.0.1:8000``: only nginx on the same machine talks to it), ``WEB_CONCURRENCY`` workers
(default 2 × CPUs + 1, at most 8), ``PILLARS_THREADS`` threads each (default 4). Logs go to
standard error (journald); with ``LOG_FORMAT=json`` the app's lines are JSON with a request id.
"""

import multiprocessing
import os

bind = os.environ.get("PILLARS_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8)))
worker_class = "gthread"
threads = int(os.environ.get("PILLARS_THREADS", 4))
# a section form with its evidence files may take a while to upload on a slow line
timeout = int(os.environ.get("PILLARS_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 5
# a worker is replaced after this many requests (bounded memory), at a random point
max_requests = 2000
max_requests_jitter = 200
# the app refuses to start with a bad configuration: fail at once, not in every worker
preload_app = True
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("PILLARS_LOG_LEVEL", "info")
# nginx sets X-Forwarded-For/-Proto; the app trusts them through PROXY_COUNT=1 (ProxyFix)
forwarded_allow_ips = "127.0.0.1"
proc_name = "pillars"
