# newsbeam runtime image: the pinned dependency set from requirements.lock, the app as a wheel.
#   build:  docker build -t newsbeam .          run: docker run -v "$PWD/out:/data" newsbeam
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
WORKDIR /src
RUN python3 -m venv /opt/venv
COPY requirements.lock ./
RUN /opt/venv/bin/python -m pip install --no-cache-dir -r requirements.lock
COPY pyproject.toml README.md ./
COPY pipeline ./pipeline
COPY transforms ./transforms
COPY configs ./configs
RUN /opt/venv/bin/python -m pip wheel --no-deps --no-build-isolation -w /wheels . \
    && /opt/venv/bin/python -m pip install --no-cache-dir --no-deps /wheels/*.whl

FROM ${BASE_IMAGE} AS runtime
COPY --from=build /opt/venv /opt/venv
RUN useradd --create-home --uid 10001 newsbeam && mkdir /data && chown newsbeam /data
USER newsbeam
WORKDIR /data
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1
VOLUME /data
ENTRYPOINT ["newsbeam"]
CMD ["run", "--output", "/data"]
