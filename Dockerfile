# Rapport: a slim image that serves the app on port 8000 as a non-root user.
# Point it at a model with OPENAI_API_KEY / OPENAI_BASE_URL; with none it runs the scripted backend.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RAPPORT_DATABASE_URL=sqlite:////data/rapport.db

RUN useradd --create-home --uid 10001 rapport && mkdir /data && chown rapport /data

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
# Installed in place so the app finds personas/, rubrics/, web/ and alembic/ beside it.
RUN pip install --no-cache-dir -e .
COPY personas ./personas
COPY rubrics ./rubrics
COPY web ./web
COPY alembic ./alembic

USER rapport
EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=3s --start-period=15s --retries=3 \
    CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
# Listening beyond loopback needs API keys (RAPPORT_API_KEYS) or --insecure.
CMD ["rapport", "serve", "--host", "0.0.0.0", "--port", "8000"]
