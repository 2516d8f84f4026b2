# syntax=docker/dockerfile:1
# Build stage: wheels for the project and its dependencies.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Runtime stage: no compilers, a non-root user, migrations beside the working directory.
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 ilp
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/* && rm -rf /wheels
COPY alembic.ini ./
COPY migrations ./migrations
RUN mkdir -p /app/data && chown ilp:ilp /app/data
USER ilp
ENV ILP_DATABASE_URL=sqlite:////app/data/ilp.db \
    PYTHONUNBUFFERED=1
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/live')"
CMD ["ilp", "serve", "--host", "0.0.0.0", "--port", "8000"]
