package io.fleetpulse.launcher;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** One run of the real {@code fleetpulse} command line in the test's JVM, its exit status and output captured. */
record CliRun(int exit, String out, String err) {

    static CliRun execute(String... args) {
        CommandLine cli = FleetPulseCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new CliRun(exit, out.toString(), err.toString());
    }
}
