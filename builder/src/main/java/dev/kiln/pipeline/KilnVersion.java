package dev.kiln.pipeline;

/** Kiln's own version, from the jar manifest ("dev" when run from classes). */
public final class KilnVersion {

    private KilnVersion() {
    }

    public static String get() {
        String v = KilnVersion.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
