# One image for every FleetPulse service; the command picks the service (collector, stream-processor, sink,
# alerting, simulate). Built from source so the image never depends on a jar committed to the repo.
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -B -ntp -Dmaven.test.skip=true package -pl launcher -am

FROM eclipse-temurin:17-jre
RUN useradd --system --home /var/lib/fleetpulse fleetpulse && mkdir -p /var/lib/fleetpulse && chown fleetpulse /var/lib/fleetpulse
COPY --from=build /src/launcher/target/fleetpulse.jar /opt/fleetpulse/fleetpulse.jar
USER fleetpulse
WORKDIR /var/lib/fleetpulse
EXPOSE 8080
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-jar", "/opt/fleetpulse/fleetpulse.jar"]
CMD ["--help"]
