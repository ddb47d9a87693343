/**
 * The deterministic simulator (testing.md section 2): the real replication core of {@code
 * duet-sync} for two sites and the real mediator state machine of {@code duet-mediator}, run on one
 * thread with simulated time, network and disks, under faults chosen by one seed, and checked
 * against the guarantees G1-G5 (replication.md section 1) with a per-block linearizability checker.
 *
 * <p>Entry point: {@link io.duet.testkit.sim.SimWorld#run(long, boolean)}.
 */
package io.duet.testkit.sim;
