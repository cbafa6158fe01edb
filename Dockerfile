# One image for every FleetPulse service; the command picks the service (collector, stream-processor, sink,
# alerting, simulate). Built from source so the image never depends on a jar committed to the repo.
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -B -ntp -Dstyle.color=never -Dmaven.test.skip=true package -pl launcher -am

FROM eclipse-temurin:17-jre
# curl is the compose healthcheck's probe: run in exec form it needs no shell (the image's /bin/sh is dash, which has
# no /dev/tcp), it exits non-zero on a non-2xx /readyz, and it costs milliseconds where a JVM probe every 10 s per
# service would cost a JVM start. Installed explicitly so the healthcheck does not rely on what the base image ships.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
# The streams directory is created here, owned by the service user, because compose mounts a named volume on it:
# a new named volume takes the ownership of the image's directory, so the non-root user can write its state.
RUN useradd --system --user-group --home-dir /var/lib/fleetpulse fleetpulse \
 && mkdir -p /var/lib/fleetpulse/streams \
 && chown -R fleetpulse:fleetpulse /var/lib/fleetpulse
COPY --from=build /src/launcher/target/fleetpulse.jar /opt/fleetpulse/fleetpulse.jar
USER fleetpulse
WORKDIR /var/lib/fleetpulse
EXPOSE 8080
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-jar", "/opt/fleetpulse/fleetpulse.jar"]
CMD ["--help"]
