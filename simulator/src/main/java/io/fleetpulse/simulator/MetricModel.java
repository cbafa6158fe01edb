package io.fleetpulse.simulator;

import java.time.Duration;
import java.util.Random;

/**
 * The baseline metrics of one virtual server: mean-reverting random walks for gauges and growing counters,
 * advanced in one-second steps from the fleet's start. A reading depends only on the seed and the elapsed time,
 * never on how often or in which order it was asked for, so a seed and a clock reproduce a run exactly.
 */
final class MetricModel {

    private static final long STEP_MS = 1000;
    private static final long GB = 1_000_000_000L;
    /** A service fails about once per two hours of a server's life and comes back in about 45 s. */
    private static final double SERVICE_FAILURE_PER_STEP = 1.0 / 7200;
    private static final double SERVICE_RECOVERY_PER_STEP = 1.0 / 45;

    private final long seed;

    // The server's character, drawn once from the seed.
    private double cpuMean;
    private double memoryMean;
    private double diskMean;
    private long diskTotalBytes;
    private int servicesTotal;
    private double rxPerSecond;
    private double txPerSecond;
    private double tasksPerSecond;
    private double latencyMean;
    private double gpuMean;
    private double llmPerSecond;
    private double costPerRequest;
    private double usersMean;
    private double queueMean;

    // The walk.
    private Random random;
    private long step;
    private double cpu;
    private double memory;
    private double disk;
    private double latency;
    private double gpu;
    private double users;
    private double queue;
    private double load;
    private long rx;
    private long tx;
    private long tasksCompleted;
    private long tasksFailed;
    private long llmRequests;
    private double llmCost;
    private int servicesFailed;

    MetricModel(long seed) {
        this.seed = seed;
        reset();
    }

    private void reset() {
        random = new Random(seed);
        cpuMean = 15 + random.nextDouble() * 30;
        memoryMean = 35 + random.nextDouble() * 35;
        diskMean = 30 + random.nextDouble() * 35;
        diskTotalBytes = new long[] {250 * GB, 500 * GB, 1000 * GB}[random.nextInt(3)];
        servicesTotal = 8 + random.nextInt(9);
        rxPerSecond = 50_000 + random.nextDouble() * 5_000_000;
        txPerSecond = rxPerSecond * (0.3 + random.nextDouble());
        tasksPerSecond = 2 + random.nextDouble() * 18;
        latencyMean = 40 + random.nextDouble() * 200;
        gpuMean = random.nextDouble() * 60;
        llmPerSecond = 0.1 + random.nextDouble() * 2;
        costPerRequest = 0.0005 + random.nextDouble() * 0.004;
        usersMean = 20 + random.nextDouble() * 300;
        queueMean = random.nextDouble() * 20;

        step = 0;
        cpu = cpuMean;
        memory = memoryMean;
        disk = diskMean;
        latency = latencyMean;
        gpu = gpuMean;
        users = usersMean;
        queue = queueMean;
        load = cpuMean / 25;
        rx = (long) (rxPerSecond * 3600 * random.nextDouble() * 24);
        tx = (long) (txPerSecond * 3600 * random.nextDouble() * 24);
        tasksCompleted = 0;
        tasksFailed = 0;
        llmRequests = 0;
        llmCost = 0;
        servicesFailed = 0;
    }

    /** The reading {@code elapsed} after the fleet started (negative elapsed reads as the start). */
    synchronized MetricReading at(Duration elapsed) {
        long target = Math.max(0, elapsed.toMillis() / STEP_MS);
        if (target < step) {
            // A clock that went back: replay from the start, which yields the same values as the first time.
            reset();
        }
        while (step < target) {
            advance();
        }
        return new MetricReading(MetricReading.round2(cpu), MetricReading.round2(memory), MetricReading.round2(disk),
                diskTotalBytes, rx, tx, servicesTotal - servicesFailed, servicesFailed, servicesTotal,
                tasksCompleted, tasksFailed, MetricReading.round2(latency), MetricReading.round2(gpu), llmRequests,
                Math.round(llmCost * 1e6) / 1e6, (int) Math.round(users), MetricReading.round2(queue),
                MetricReading.round2(load));
    }

    private void advance() {
        step++;
        cpu = walk(cpu, cpuMean, 0.05, 2.5, 1, 100);
        memory = walk(memory, memoryMean, 0.02, 0.6, 5, 98);
        // Baseline disks drift slowly and never reach the warning line; only a DISK_FILL incident does.
        disk = walk(disk, diskMean, 0.002, 0.05, 5, 75);
        latency = walk(latency, latencyMean * (1 + cpu / 200), 0.1, latencyMean * 0.05, 1, 60_000);
        gpu = walk(gpu, gpuMean, 0.05, 3, 0, 100);
        users = walk(users, usersMean, 0.02, usersMean * 0.02, 0, Double.MAX_VALUE);
        queue = walk(queue, queueMean, 0.1, queueMean * 0.1 + 0.5, 0, Double.MAX_VALUE);
        // A one-minute load average follows CPU with a lag, as the kernel's exponential average does.
        load = load + (cpu / 25 - load) / 60;
        rx += Math.max(0, Math.round(rxPerSecond * (1 + 0.3 * random.nextGaussian())));
        tx += Math.max(0, Math.round(txPerSecond * (1 + 0.3 * random.nextGaussian())));
        tasksCompleted += Math.max(0, Math.round(tasksPerSecond * (1 + 0.3 * random.nextGaussian())));
        if (random.nextDouble() < tasksPerSecond * 0.005) {
            tasksFailed++;
        }
        long requests = Math.max(0, Math.round(llmPerSecond * (1 + 0.5 * random.nextGaussian())));
        llmRequests += requests;
        llmCost += requests * costPerRequest;
        double u = random.nextDouble();
        if (servicesFailed == 0 && u < SERVICE_FAILURE_PER_STEP) {
            servicesFailed = 1;
        } else if (servicesFailed > 0 && u < SERVICE_RECOVERY_PER_STEP) {
            servicesFailed = 0;
        }
    }

    /** One step of a mean-reverting walk: pulled towards {@code mean} by {@code pull}, jittered by {@code noise}. */
    private double walk(double value, double mean, double pull, double noise, double min, double max) {
        double next = value + pull * (mean - value) + noise * random.nextGaussian();
        return Math.max(min, Math.min(max, next));
    }
}
