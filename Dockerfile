# newsbeam images: the pinned dependency set from requirements.lock, the app installed as a wheel.
#   runtime (the default target): docker build -t newsbeam .
#       docker run -v "$PWD/out:/data" newsbeam                 # the bundled sample feeds into ./out
#   worker: docker build --target worker -t REGISTRY/newsbeam-worker:0.1.0 .
#       the Beam SDK harness with newsbeam installed: --sdk_container_image for Dataflow / Flink / Spark
ARG BASE_IMAGE=python:3.11-slim
# Keep in step with apache-beam in requirements.lock (a test checks): the harness must match the SDK.
ARG BEAM_VERSION=2.77.0

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

# The Beam SDK image keeps its own entrypoint (the worker boot program); only the package is added.
FROM apache/beam_python3.11_sdk:${BEAM_VERSION} AS worker
COPY requirements.lock /tmp/requirements.lock
COPY --from=build /wheels /tmp/wheels
RUN python3 -m pip install --no-cache-dir -r /tmp/requirements.lock \
    && python3 -m pip install --no-cache-dir --no-deps /tmp/wheels/*.whl \
    && rm -rf /tmp/requirements.lock /tmp/wheels

FROM ${BASE_IMAGE} AS runtime
COPY --from=build /opt/venv /opt/venv
RUN useradd --create-home --uid 10001 newsbeam && mkdir /data && chown newsbeam /data
USER 10001
WORKDIR /data
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1
VOLUME /data
ENTRYPOINT ["newsbeam"]
CMD ["run", "--output", "/data"]
