package dev.kiln.container;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The Kiln process that made a container or image, as its label records it: the boot, the pid
 * namespace, the pid and the process start time (clock ticks since boot, from /proc). The start
 * time tells a reused pid from the owner; boot and namespace say whether this process can judge
 * at all (a pid from another machine on a shared engine, or from another container, means nothing
 * here).
 */
record RunOwner(String boot, String pidNamespace, long pid, long started) {

    /** Label naming the owner run, e.g. {@code boot=3574ed69-...;pidns=4026531836;pid=4711;start=1234567}. */
    static final String LABEL = "dev.kiln.owner";

    private static final Path PROC = Path.of("/proc");
    private static final Optional<RunOwner> CURRENT = of(ProcessHandle.current().pid());

    /** This process, when /proc tells who it is (Linux); empty elsewhere, and nothing is ever judged an orphan. */
    static Optional<RunOwner> current() {
        return CURRENT;
    }

    String label() {
        return "boot=" + boot + ";pidns=" + pidNamespace + ";pid=" + pid + ";start=" + started;
    }

    static Optional<RunOwner> parse(String label) {
        if (label == null) {
            return Optional.empty();
        }
        Map<String, String> fields = new LinkedHashMap<>();
        for (String part : label.split(";")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                fields.put(part.substring(0, eq), part.substring(eq + 1));
            }
        }
        try {
            return Optional.of(new RunOwner(fields.get("boot"), fields.get("pidns"), Long.parseLong(fields.get("pid")),
                    Long.parseLong(fields.get("start"))))
                    .filter(o -> o.boot() != null && o.pidNamespace() != null);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * True only when this process can tell for sure that the owner has ended: same boot and pid
     * namespace as us, and no process with its pid and start time. Anything it cannot judge is alive.
     */
    boolean gone() {
        Optional<RunOwner> self = current();
        if (self.isEmpty() || !self.get().boot().equals(boot) || !self.get().pidNamespace().equals(pidNamespace)) {
            return false;
        }
        Optional<Long> start = startTicks(pid);
        return start.isEmpty() || start.get() != started;
    }

    private static Optional<RunOwner> of(long pid) {
        try {
            String boot = Files.readString(PROC.resolve("sys/kernel/random/boot_id")).trim();
            String ns = Files.readSymbolicLink(PROC.resolve("self/ns/pid")).toString();
            String inode = ns.replaceAll("\\D", "");
            Optional<Long> start = startTicks(pid);
            return start.map(s -> new RunOwner(boot, inode, pid, s));
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }

    /** Field 22 of /proc/PID/stat; the command name before it is in parentheses and may hold spaces. */
    private static Optional<Long> startTicks(long pid) {
        try {
            String stat = Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"));
            String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Optional.of(Long.parseLong(after[19]));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
