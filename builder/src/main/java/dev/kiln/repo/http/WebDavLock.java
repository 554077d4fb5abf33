package dev.kiln.repo.http;

import dev.kiln.KilnException;
import dev.kiln.config.TargetConfig;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The lock of one WebDAV target, held by one publisher on any machine: the file
 * {@value #PATH}, created with a create-only {@code MOVE} ({@code Overwrite: F}), which the server
 * performs atomically, so of two publishers only one gets it. It names its holder (host, pid,
 * since when) for the message of whoever waits, and expires {@link #TTL} after it was last renewed,
 * so a publisher killed on another machine blocks the target for at most that long; one killed on
 * this machine is noticed at once (its process is gone) and its lock is taken over.
 */
final class WebDavLock implements AutoCloseable {

    static final String PATH = ".kiln/lock";
    static final Duration TTL = Duration.ofMinutes(2);
    private static final Pattern FIELD = Pattern.compile("^(\\w+)=(.*)$", Pattern.MULTILINE);

    private final WebDav dav;
    private final Clock clock;
    private final String id;
    private final String host;
    private final Instant since;
    private Instant renewed;

    private WebDavLock(WebDav dav, Clock clock, String id, String host, Instant since) {
        this.dav = dav;
        this.clock = clock;
        this.id = id;
        this.host = host;
        this.since = since;
        this.renewed = since;
    }

    /** A lock file's fields. */
    record Holder(String id, String host, long pid, Instant since, Instant expires) {
        String describe() {
            return "host " + host + ", pid " + pid + ", since " + since;
        }
    }

    static WebDavLock acquire(WebDav dav, TargetConfig target, Clock clock, String id) {
        String host = hostName();
        Instant started = clock.instant();
        Instant deadline = started.plus(target.lockTimeout());
        dav.mkcol(""); // the first publish into a new location makes its folder (its parent must exist)
        dav.mkcol(".kiln/");
        long wait = 50;
        while (true) {
            Instant now = clock.instant();
            String temp = ".kiln/lock." + id + ".part";
            dav.put(temp, render(id, host, now).getBytes(StandardCharsets.UTF_8));
            if (dav.moveIfAbsent(temp, PATH)) {
                // what acquirers killed before their rename left (one that is alive and loses its file here just tries again)
                for (String name : dav.list(".kiln/")) {
                    if (name.startsWith("lock.") && !name.equals("lock." + id + ".part")) {
                        dav.delete(".kiln/" + name);
                    }
                }
                return new WebDavLock(dav, clock, id, host, now);
            }
            dav.delete(temp);
            Optional<Holder> holder = dav.get(PATH).flatMap(b -> parse(new String(b, StandardCharsets.UTF_8)));
            if (holder.isPresent() && stale(holder.get(), host, now)) {
                breakLock(dav, holder.get(), id);
                continue;
            }
            if (!now.isBefore(deadline)) {
                throw KilnException.environment("target " + target.name() + " is being published by another Kiln ("
                        + holder.map(Holder::describe).orElse("holder unknown") + "); waited " + target.lockTimeout().toSeconds()
                        + " s: try again later" + holder.map(h -> ", or, if that publish is gone, its lock expires at " + h.expires())
                                .orElse(""));
            }
            try {
                // jittered, so publishers that wait together do not retry in step; capped low, because a publish
                // takes a fraction of a second and a waiter that sleeps long leaves the target idle
                Thread.sleep(wait / 2 + java.util.concurrent.ThreadLocalRandom.current().nextLong(wait / 2 + 1));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw KilnException.interrupted();
            }
            wait = Math.min(250, wait * 2);
        }
    }

    /** Expired, or held by a process of this machine that no longer runs. */
    private static boolean stale(Holder holder, String host, Instant now) {
        if (now.isAfter(holder.expires())) {
            return true;
        }
        return holder.host().equals(host) && holder.pid() != ProcessHandle.current().pid()
                && ProcessHandle.of(holder.pid()).map(p -> !p.isAlive()).orElse(true);
    }

    /**
     * Moves the stale lock aside (only one of several breakers succeeds) and, should what was moved
     * turn out to be a newer lock another publisher took meanwhile, puts it back.
     */
    private static void breakLock(WebDav dav, Holder stale, String id) {
        String aside = ".kiln/lock.broken-" + id;
        if (!dav.moveIfAbsent(PATH, aside)) {
            return;
        }
        Optional<Holder> moved = dav.get(aside).flatMap(b -> parse(new String(b, StandardCharsets.UTF_8)));
        if (moved.isPresent() && !moved.get().id().equals(stale.id())) {
            dav.moveIfAbsent(aside, PATH);
        }
        dav.delete(aside);
    }

    /** Renews the lock when half its time to live has passed: called between the steps of a long publish. */
    void renewIfDue() {
        Instant now = clock.instant();
        if (Duration.between(renewed, now).compareTo(TTL.dividedBy(2)) < 0) {
            return;
        }
        Optional<Holder> holder = dav.get(PATH).flatMap(b -> parse(new String(b, StandardCharsets.UTF_8)));
        if (holder.isEmpty() || !holder.get().id().equals(id)) {
            throw KilnException.environment("the lock of this publish was taken over (it was not renewed within " + TTL.toSeconds()
                    + " s): nothing went live; publish again");
        }
        dav.put(PATH, render(id, host, since, now.plus(TTL)).getBytes(StandardCharsets.UTF_8));
        renewed = now;
    }

    @Override
    public void close() {
        Optional<Holder> holder = dav.get(PATH).flatMap(b -> parse(new String(b, StandardCharsets.UTF_8)));
        if (holder.isPresent() && holder.get().id().equals(id)) {
            dav.delete(PATH);
        }
    }

    private static String render(String id, String host, Instant now) {
        return render(id, host, now, now.plus(TTL));
    }

    private static String render(String id, String host, Instant since, Instant expires) {
        return "id=" + id + "\nhost=" + host + "\npid=" + ProcessHandle.current().pid() + "\nsince=" + since + "\nexpires=" + expires + "\n";
    }

    static Optional<Holder> parse(String text) {
        java.util.Map<String, String> fields = new java.util.HashMap<>();
        Matcher m = FIELD.matcher(text);
        while (m.find()) {
            fields.put(m.group(1), m.group(2).strip());
        }
        try {
            return Optional.of(new Holder(fields.get("id"), fields.getOrDefault("host", "?"), Long.parseLong(fields.get("pid")),
                    Instant.parse(fields.get("since")), Instant.parse(fields.get("expires"))));
        } catch (RuntimeException e) {
            return Optional.empty(); // unreadable: treated as held by someone unknown until it is replaced
        }
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "unknown-host";
        }
    }
}
