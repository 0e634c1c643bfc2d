/**
 * Node's options for the minewatch command. bin/minewatch.cjs's first line passes them (a
 * test keeps the two the same), and so do the systemd unit, the build's warm runs that
 * save the code caches, and the benchmarks. V8 hands a code cache back only to a process
 * with the same V8 flags as the one that made it, so every runner of the bundle must use
 * exactly these.
 *
 * - `--v8-pool-size=0`: V8's helper threads (optimising compiler, GC) one fewer than the
 *   cores instead of Node's fixed 4, so they do not preempt the packet thread while it
 *   waits for its optimised code.
 * - `--initial-old-space-size=64`: the old generation starts with room for 64 MB instead of
 *   a few; a replay's flow state outgrew the initial room within a quarter of a second and
 *   drew full collections (13 ms of marking on the 400 MB benchmark input, four on 4 GB).
 * - `--max-inlined-bytecode-size-cumulative=300` (V8's default 920): less inlined into each
 *   optimised function, so less compiler work. With a core to itself the compiler's time
 *   hardly shows, but where it shares the packet thread's core (one vCPU, or a neighbour on
 *   the other) a 400 MB replay took 7-11 % less; the steady state (4 GB) is no slower.
 *
 * Every option must be one that Node 20 and the Nodes after it accept: an unknown V8 flag
 * stops Node before the command starts ("bad option"). V8's tier-up thresholds
 * (--max-bytecode-size-for-early-opt, --bytecode-size-allowance-per-tick) made Node 20's
 * compiler take the per-packet functions first, 2 % faster on two cores, but Node 22's V8
 * has neither, and setting them at run time would load node:v8 (2-3 ms): left out.
 */
export const COMMAND_NODE_OPTIONS: readonly string[] = ['--v8-pool-size=0', '--initial-old-space-size=64', '--max-inlined-bytecode-size-cumulative=300'];
