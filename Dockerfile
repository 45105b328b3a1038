# Production image: a non-root user, uvicorn with several workers, a health check.
# Migrations are a separate, explicit step:  docker run --rm -e LMS_DATABASE_URL=… IMAGE lms db upgrade
# Each uvicorn worker also runs background jobs unless LMS_WORKER_IN_PROCESS=false; separate job workers are the
# same image with the command `lms worker` (compose.yaml, docs/deployment.md). Both stop cleanly on SIGTERM.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
# PYTHONPATH makes the copied source tree (with migrations/ beside app/) the one that both uvicorn and lms import.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHONPATH=/srv/lms LMS_ENV=production LMS_WORKERS=4
RUN useradd --system --uid 10001 --home-dir /srv/lms lms
WORKDIR /srv/lms
COPY --from=build /install /usr/local
# The migrations and the course packs are read from the working directory (lms db upgrade, lms content import).
COPY migrations ./migrations
COPY content ./content
COPY app ./app
USER lms
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"
CMD ["sh", "-c", "exec uvicorn app.main:create_app --factory --host 0.0.0.0 --port 8000 --workers ${LMS_WORKERS} --proxy-headers --forwarded-allow-ips='*'"]
