package dev.kiln.guard;

/**
 * A whole folder that moved: {@code paths} of the individual moves share this pair of leading
 * folders ({@code /opt/maven} -> {@code /opt/apache-maven-3.9.9}), the folder itself included when it was owned.
 */
public record FolderMove(String from, String to, int paths) {

    @Override
    public String toString() {
        return slash(from) + " -> " + slash(to) + " (whole folder, " + paths + " paths)";
    }

    private static String slash(String folder) {
        return folder.endsWith("/") ? folder : folder + "/";
    }
}
